//! Small inline lists for the tape's hot path: most ops have one to three inputs, and keeping
//! their ids and per-op scratch lists on the stack saves heap allocations on every op.

use crate::{Float, Var};

/// A node's input ids: inline up to three (every primitive but concat and stack), so recording
/// an op does not allocate for them; boxed beyond.
#[derive(Clone)]
pub(crate) enum Ids {
    Inline([usize; 3], u8),
    Heap(Box<[usize]>),
}

impl Ids {
    pub(crate) const NONE: Ids = Ids::Inline([0; 3], 0);

    pub(crate) fn of<T: Float>(vars: &[Var<'_, T>]) -> Self {
        if vars.len() <= 3 {
            let mut ids = [0; 3];
            for (slot, v) in ids.iter_mut().zip(vars) {
                *slot = v.id;
            }
            Ids::Inline(ids, vars.len() as u8)
        } else {
            Ids::Heap(vars.iter().map(|v| v.id).collect())
        }
    }

    pub(crate) fn as_slice(&self) -> &[usize] {
        match self {
            Ids::Inline(ids, len) => &ids[..usize::from(*len)],
            Ids::Heap(ids) => ids,
        }
    }
}

/// Up to three items on the stack, more on the heap: the per-op scratch lists (input values,
/// input Vars, wanted gradients) without an allocation in the common case.
pub(crate) fn with_small_list<X: Copy, R>(items: impl ExactSizeIterator<Item = X>, f: impl FnOnce(&[X]) -> R) -> R {
    let len = items.len();
    if len <= 3 {
        let mut items = items;
        match items.next() {
            None => f(&[]),
            Some(first) => {
                let mut buf = [first; 3];
                for (slot, item) in buf.iter_mut().skip(1).zip(items) {
                    *slot = item;
                }
                f(&buf[..len])
            }
        }
    } else {
        f(&items.collect::<Vec<X>>())
    }
}
