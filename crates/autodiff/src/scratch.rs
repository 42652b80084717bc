//! Releasing the fast path's dead intermediates while the reverse sweep runs.
//!
//! `Tape::grad` pushes the backward pass's values onto the arena as scratch nodes and truncates
//! them when it returns. Most of them are dead long before that: a cotangent is read once, by
//! the VJP of the node it belongs to, and the temporaries inside a VJP are dead when it
//! returns. Holding them all until the end made a conv-4 step's backward keep every
//! activation-sized gradient alive at once, which on a batch of 75 is hundreds of megabytes of
//! freshly faulted pages per step. [`ScratchRelease`] counts the cotangent slots that refer to
//! each scratch node and drops a node's value once nothing can read it again.
//!
//! Only the fast path releases anything: a recorded backward (`grad_graph`) builds a graph
//! whose nodes are all read again by the next backward pass.

/// Reference counts of the cotangent slots that hold each scratch node.
pub(crate) struct ScratchRelease {
    /// The first node pushed by this backward pass; older nodes are never released.
    first: usize,
    /// `holders[n - first]`: how many cotangent slots hold node `n`.
    holders: Vec<u32>,
}

impl ScratchRelease {
    pub(crate) fn new(first: usize) -> Self {
        ScratchRelease { first, holders: Vec::new() }
    }

    fn slot(&mut self, node: usize) -> Option<&mut u32> {
        let k = node.checked_sub(self.first)?;
        if k >= self.holders.len() {
            self.holders.resize(k + 1, 0);
        }
        Some(&mut self.holders[k])
    }

    /// A cotangent slot now holds `node`.
    pub(crate) fn hold(&mut self, node: usize) {
        if let Some(count) = self.slot(node) {
            *count += 1;
        }
    }

    /// A cotangent slot let go of `node`.
    pub(crate) fn let_go(&mut self, node: usize) {
        if let Some(count) = self.slot(node) {
            *count -= 1;
        }
    }

    /// True when `node` is a scratch node that no cotangent slot holds: nothing reads it again.
    pub(crate) fn is_dead(&mut self, node: usize) -> bool {
        self.slot(node).is_some_and(|count| *count == 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_holders_and_never_releases_older_nodes() {
        let mut release = ScratchRelease::new(10);
        assert!(!release.is_dead(3), "a node from before the pass is never released");
        assert!(release.is_dead(12), "a scratch node nobody holds is dead");
        release.hold(12);
        release.hold(12);
        release.let_go(12);
        assert!(!release.is_dead(12));
        release.let_go(12);
        assert!(release.is_dead(12));
    }
}
