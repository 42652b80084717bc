//! The tape: an arena of nodes (a Wengert list) and the reverse sweep over it.
//!
//! Every op appends one node holding its output value, the op and its input ids. Because a
//! node's inputs always come before it, the arena is already in topological order, and the
//! backward pass is a single sweep from the output down.

use crate::{Float, Op, Tensor, Var};
use std::cell::{Cell, RefCell};
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::scratch::ScratchRelease;
use crate::small_list::{with_small_list, Ids};

static NEXT_TAPE_ID: AtomicUsize = AtomicUsize::new(0);

pub(crate) struct Node<T: Float> {
    pub(crate) value: Tensor<T>,
    /// The op that made this node, kept only when the node needs a gradient.
    op: Option<Arc<dyn Op<T>>>,
    inputs: Ids,
    /// True for leaves made by `Tape::var` and for every recorded op with such an ancestor.
    requires_grad: bool,
}

/// Where and why anomaly mode first saw a NaN or an infinity.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::{Tape, Tensor};
///
/// let tape = Tape::<f64>::new();
/// tape.set_detect_anomaly(true);
/// let x = tape.var(Tensor::from_vec(&[2], vec![1.0, 0.0])); // node 0
/// let zero = tape.scalar(0.0); // node 1
/// let _ = x / zero; // node 2: [1 / 0, 0 / 0] = [inf, NaN]
/// let anomaly = tape.first_anomaly().unwrap();
/// assert_eq!(anomaly.op, "div");
/// assert_eq!(anomaly.input_shapes, vec![vec![2], vec![]]);
/// assert_eq!((anomaly.node, anomaly.in_backward_of), (2, None));
/// assert!(anomaly.to_string().starts_with("op `div` (node 2) produced NaN or infinity"));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Anomaly {
    /// The op whose output held the non-finite value.
    pub op: &'static str,
    /// The shapes of that op's inputs.
    pub input_shapes: Vec<Vec<usize>>,
    /// When the op ran inside a backward pass: the op whose VJP it belonged to.
    pub in_backward_of: Option<&'static str>,
    /// The node id of the output. For an op inside `grad`/`vjp` (the fast path) this was a
    /// scratch node, which is gone once the pass returns: use `op` and `in_backward_of` then.
    pub node: usize,
}

impl fmt::Display for Anomaly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "op `{}` (node {}) produced NaN or infinity from inputs of shapes {:?}",
            self.op, self.node, self.input_shapes
        )?;
        if let Some(outer) = self.in_backward_of {
            write!(f, ", in the backward pass of `{outer}`")?;
        }
        Ok(())
    }
}

/// A tape records the operations on [`Var`]s so that gradients can be computed later.
///
/// One tape per computation: create it, lift parameters onto it with [`Tape::var`], compute,
/// take gradients, drop it. Tapes are cheap, and a tape per task is what lets tasks run in
/// parallel without locks.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::{Tape, Tensor};
///
/// let tape = Tape::<f64>::new();
/// let w = tape.var(Tensor::scalar(3.0));
/// let loss = w * w - w; // w^2 - w
/// assert_eq!(loss.item(), 6.0);
/// assert_eq!(tape.grad(loss, &[w])[0].item(), 5.0); // 2 w - 1
/// ```
pub struct Tape<T: Float> {
    id: usize,
    nodes: RefCell<Vec<Node<T>>>,
    recording: Cell<bool>,
    detect_anomaly: Cell<bool>,
    first_anomaly: RefCell<Option<Anomaly>>,
    backward_of: Cell<Option<&'static str>>,
}

impl<T: Float> Default for Tape<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Float> Tape<T> {
    /// An empty tape.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::Tape;
    ///
    /// let tape = Tape::<f32>::new();
    /// assert!(tape.is_empty());
    /// assert!(tape.is_recording());
    /// assert!(tape.first_anomaly().is_none());
    /// ```
    pub fn new() -> Self {
        Tape {
            id: NEXT_TAPE_ID.fetch_add(1, Ordering::Relaxed),
            // Room for a small model's forward and double backward without regrowing the arena.
            nodes: RefCell::new(Vec::with_capacity(256)),
            recording: Cell::new(true),
            detect_anomaly: Cell::new(false),
            first_anomaly: RefCell::new(None),
            backward_of: Cell::new(None),
        }
    }

    /// A leaf that takes gradients (a parameter or an input to differentiate with respect to).
    /// The tensor's storage is shared, not copied.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let t = Tensor::from_vec(&[2], vec![1.0, 2.0]);
    /// let x = tape.var(t.clone());
    /// assert!(x.requires_grad());
    /// assert_eq!(x.value().array().as_ptr(), t.array().as_ptr()); // shared, not copied
    /// assert_eq!(tape.grad(x.sum(), &[x])[0].to_vec(), vec![1.0, 1.0]);
    /// ```
    pub fn var(&self, value: Tensor<T>) -> Var<'_, T> {
        self.push_node(value, None, Ids::NONE, true)
    }

    /// A constant: a leaf that never takes a gradient.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let c = tape.constant(Tensor::from_vec(&[2], vec![1.0, 2.0]));
    /// let x = tape.var(Tensor::from_vec(&[2], vec![3.0, 4.0]));
    /// assert!(!c.requires_grad());
    /// assert_eq!(tape.grad((x * c).sum(), &[x])[0].to_vec(), vec![1.0, 2.0]); // d/dx sum(x c) = c
    /// ```
    pub fn constant(&self, value: Tensor<T>) -> Var<'_, T> {
        self.push_node(value, None, Ids::NONE, false)
    }

    /// A scalar constant.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::Tape;
    ///
    /// let tape = Tape::<f64>::new();
    /// let s = tape.scalar(2.0);
    /// assert_eq!((s.shape(), s.item(), s.requires_grad()), (vec![], 2.0, false));
    /// ```
    pub fn scalar(&self, value: T) -> Var<'_, T> {
        self.constant(Tensor::scalar(value))
    }

    /// Number of nodes on the tape.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::scalar(1.0));
    /// let y = x.exp();
    /// assert_eq!(tape.len(), 2); // one leaf, one op
    /// tape.grad(y, &[x]); // the fast path leaves nothing behind
    /// assert_eq!(tape.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.nodes.borrow().len()
    }

    /// True when nothing has been recorded yet.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::Tape;
    ///
    /// let tape = Tape::<f64>::new();
    /// assert!(tape.is_empty());
    /// tape.scalar(1.0); // a constant is a node too
    /// assert!(!tape.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Runs `f` without recording: every op inside yields a constant.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::scalar(2.0));
    /// let y = tape.no_grad(|| x * x);
    /// assert_eq!(y.item(), 4.0);
    /// assert!(!y.requires_grad()); // a constant: no gradient flows back through it
    /// assert!((x * x).requires_grad()); // recording resumes after the closure
    /// ```
    pub fn no_grad<R>(&self, f: impl FnOnce() -> R) -> R {
        let _restore = RestoreRecording::set(self, false);
        f()
    }

    /// True while ops are being recorded (false inside [`Tape::no_grad`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::Tape;
    ///
    /// let tape = Tape::<f64>::new();
    /// assert!(tape.is_recording());
    /// assert!(!tape.no_grad(|| tape.is_recording()));
    /// assert!(tape.is_recording());
    /// ```
    pub fn is_recording(&self) -> bool {
        self.recording.get()
    }

    /// Turns anomaly detection on or off. While on, every op's output is checked for NaN and
    /// infinity, and the first offender is kept for [`Tape::first_anomaly`].
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::scalar(-1.0));
    /// assert!(x.sqrt().item().is_nan()); // off: nothing is kept
    /// assert!(tape.first_anomaly().is_none());
    /// tape.set_detect_anomaly(true);
    /// x.sqrt();
    /// assert_eq!(tape.first_anomaly().unwrap().op, "sqrt");
    /// ```
    pub fn set_detect_anomaly(&self, on: bool) {
        self.detect_anomaly.set(on);
    }

    /// The first op that produced a NaN or an infinity while anomaly detection was on.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// tape.set_detect_anomaly(true);
    /// let x = tape.var(Tensor::scalar(0.0));
    /// let y = x.sqrt(); // sqrt 0 = 0: fine
    /// assert!(tape.first_anomaly().is_none());
    /// // d sqrt(x) / dx = 1 / (2 sqrt x): the VJP divides by zero.
    /// assert_eq!(tape.grad(y, &[x])[0].item(), f64::INFINITY);
    /// let anomaly = tape.first_anomaly().unwrap();
    /// assert_eq!((anomaly.op, anomaly.in_backward_of), ("div", Some("sqrt")));
    /// ```
    pub fn first_anomaly(&self) -> Option<Anomaly> {
        self.first_anomaly.borrow().clone()
    }

    /// Applies an op to inputs on this tape and returns its output.
    ///
    /// # Panics
    /// If an input belongs to another tape.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Float, Grads, Op, Tape, Tensor, Var};
    ///
    /// /// `2 x`, whose VJP is `2 g`.
    /// struct Double;
    /// impl<T: Float> Op<T> for Double {
    ///     fn name(&self) -> &'static str { "double" }
    ///     fn forward(&self, x: &[&Tensor<T>]) -> Tensor<T> { x[0].map(|v| v + v) }
    ///     fn vjp<'t>(&self, _: &[Var<'t, T>], _: Var<'t, T>, g: Var<'t, T>, _: &[bool]) -> Grads<'t, T> {
    ///         vec![Some(g + g)]
    ///     }
    /// }
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(&[2], vec![1.0, -3.0]));
    /// let y = tape.apply(Double, &[x]);
    /// assert_eq!(y.value().to_vec(), vec![2.0, -6.0]);
    /// assert_eq!(tape.grad(y.sum(), &[x])[0].to_vec(), vec![2.0, 2.0]);
    /// // Under no_grad the output is a constant.
    /// assert!(!tape.no_grad(|| tape.apply(Double, &[x])).requires_grad());
    /// ```
    pub fn apply<'t>(&'t self, op: impl Op<T>, inputs: &[Var<'t, T>]) -> Var<'t, T> {
        self.record(op, inputs, None)
    }

    /// [`apply`](Tape::apply) for an op whose output the caller has already computed (max
    /// pooling finds its maxima while it finds their positions): records `op` with `value`
    /// as its output instead of running its forward. Debug builds run the forward anyway and
    /// check that it gives `value`.
    pub(crate) fn apply_known<'t>(&'t self, op: impl Op<T>, inputs: &[Var<'t, T>], value: Tensor<T>) -> Var<'t, T> {
        self.record(op, inputs, Some(value))
    }

    /// Records `op` on `inputs`, with output `known` or else the op's forward.
    fn record<'t>(&'t self, op: impl Op<T>, inputs: &[Var<'t, T>], known: Option<Tensor<T>>) -> Var<'t, T> {
        for input in inputs {
            self.check_owns(*input, op.name());
        }
        let (out, requires_grad) = {
            // Forward sees only tensors, never the tape, so the arena can stay borrowed.
            let nodes = self.nodes.borrow();
            let requires_grad = self.recording.get() && inputs.iter().any(|v| nodes[v.id].requires_grad);
            let out = with_small_list(inputs.iter().map(|v| &nodes[v.id].value), |values| {
                let out = match known {
                    None => op.forward(values),
                    Some(value) => {
                        debug_assert!(
                            same_values(&op.forward(values), &value),
                            "apply_known: {}'s given output differs from its forward",
                            op.name()
                        );
                        value
                    }
                };
                if self.detect_anomaly.get() && !out.is_finite() && self.first_anomaly.borrow().is_none() {
                    *self.first_anomaly.borrow_mut() = Some(Anomaly {
                        op: op.name(),
                        input_shapes: values.iter().map(|v| v.shape().to_vec()).collect(),
                        in_backward_of: self.backward_of.get(),
                        node: nodes.len(),
                    });
                }
                out
            });
            (out, requires_grad)
        };
        if requires_grad {
            self.push_node(out, Some(Arc::new(op)), Ids::of(inputs), true)
        } else {
            self.push_node(out, None, Ids::NONE, false)
        }
    }

    fn push_node(&self, value: Tensor<T>, op: Option<Arc<dyn Op<T>>>, inputs: Ids, requires_grad: bool) -> Var<'_, T> {
        let mut nodes = self.nodes.borrow_mut();
        nodes.push(Node { value, op, inputs, requires_grad });
        Var::new(self, nodes.len() - 1)
    }

    pub(crate) fn value(&self, id: usize) -> Tensor<T> {
        self.nodes.borrow()[id].value.clone()
    }

    pub(crate) fn with_value<R>(&self, id: usize, f: impl FnOnce(&Tensor<T>) -> R) -> R {
        f(&self.nodes.borrow()[id].value)
    }

    pub(crate) fn requires_grad(&self, id: usize) -> bool {
        self.nodes.borrow()[id].requires_grad
    }

    pub(crate) fn check_owns(&self, v: Var<'_, T>, what: &str) {
        assert!(
            v.tape_id() == self.id,
            "{what}: a Var from tape #{} was used on tape #{}; every Var of one computation must come from the same tape",
            v.tape_id(),
            self.id
        );
    }

    pub(crate) fn id(&self) -> usize {
        self.id
    }

    /// Gradients of the scalar `y` with respect to each of `xs`, as plain tensors.
    ///
    /// This is the fast path: the backward pass is not recorded, so no graph is built for it,
    /// and the scratch values it needs are released before it returns.
    ///
    /// # Panics
    /// If `y` does not hold exactly one element, or a Var is from another tape.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(&[3], vec![1.0, 2.0, 3.0]));
    /// let w = tape.var(Tensor::scalar(2.0));
    /// let y = (x * w).sum(); // w (x0 + x1 + x2)
    /// let nodes = tape.len();
    /// let g = tape.grad(y, &[x, w]);
    /// assert_eq!(g[0].to_vec(), vec![2.0, 2.0, 2.0]); // dy/dx = w
    /// assert_eq!(g[1].item(), 6.0); // dy/dw = sum x
    /// assert_eq!(tape.len(), nodes); // nothing recorded
    /// ```
    pub fn grad(&self, y: Var<'_, T>, xs: &[Var<'_, T>]) -> Vec<Tensor<T>> {
        self.assert_scalar(y, "grad");
        self.vjp(y, xs, &Tensor::ones(&y.shape()))
    }

    /// Gradients of the scalar `y` with respect to each of `xs`, recorded on the tape as
    /// [`Var`]s, so they can be differentiated again (create_graph).
    ///
    /// # Panics
    /// If `y` does not hold exactly one element, or a Var is from another tape.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::scalar(3.0));
    /// let y = x * x * x;
    /// let dy = tape.grad_graph(y, &[x])[0]; // 3 x^2 = 27, a Var on the tape
    /// assert_eq!(dy.item(), 27.0);
    /// assert!(dy.requires_grad());
    /// assert_eq!(tape.grad(dy, &[x])[0].item(), 18.0); // 6 x
    /// ```
    pub fn grad_graph<'t>(&'t self, y: Var<'t, T>, xs: &[Var<'t, T>]) -> Vec<Var<'t, T>> {
        self.assert_scalar(y, "grad_graph");
        let seed = self.constant(Tensor::ones(&y.shape()));
        self.vjp_graph(y, xs, seed)
    }

    /// Vector-Jacobian product `cotangent^T (dy/dx)` for each of `xs`, for a `y` of any shape.
    /// Not recorded (the fast path).
    ///
    /// # Panics
    /// If `cotangent` does not have `y`'s shape, or a Var is from another tape.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(&[2], vec![1.0, 2.0]));
    /// let y = x * x; // not one element, so `grad` would refuse it
    /// let g = tape.vjp(y, &[x], &Tensor::from_vec(&[2], vec![1.0, 10.0]));
    /// assert_eq!(g[0].to_vec(), vec![2.0, 40.0]); // cotangent times 2 x, elementwise
    /// ```
    pub fn vjp(&self, y: Var<'_, T>, xs: &[Var<'_, T>], cotangent: &Tensor<T>) -> Vec<Tensor<T>> {
        let scratch_start = self.len();
        let grads = {
            let _restore = RestoreRecording::set(self, false);
            let seed = self.constant(cotangent.clone());
            let grads = self.backward(y, xs, seed);
            grads.into_iter().map(|g| g.value()).collect()
        };
        // Everything pushed since `scratch_start` is an unrecorded temporary of this pass.
        self.nodes.borrow_mut().truncate(scratch_start);
        grads
    }

    /// Vector-Jacobian product with the cotangent given as a Var, recorded on the tape so that
    /// the result can be differentiated again (also with respect to the cotangent).
    ///
    /// # Panics
    /// If the cotangent's shape differs from `y`'s, an input does not require grad, or a Var is
    /// from another tape.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(&[2], vec![1.0, 2.0]));
    /// let v = tape.var(Tensor::from_vec(&[2], vec![3.0, 4.0]));
    /// let g = tape.vjp_graph(x * x, &[x], v)[0]; // v * 2 x
    /// assert_eq!(g.value().to_vec(), vec![6.0, 16.0]);
    /// // Differentiable in the cotangent too: d/dv sum(v * 2 x) = 2 x.
    /// assert_eq!(tape.grad(g.sum(), &[v])[0].to_vec(), vec![2.0, 4.0]);
    /// ```
    pub fn vjp_graph<'t>(&'t self, y: Var<'t, T>, xs: &[Var<'t, T>], cotangent: Var<'t, T>) -> Vec<Var<'t, T>> {
        let _restore = RestoreRecording::set(self, true);
        self.backward(y, xs, cotangent)
    }

    fn assert_scalar(&self, y: Var<'_, T>, what: &str) {
        let shape = y.shape();
        assert!(
            shape.iter().product::<usize>() == 1,
            "{what}: the output has shape {shape:?}; {what} needs a one-element output. For a tensor output use vjp with an explicit cotangent"
        );
    }

    /// The reverse sweep: pulls `seed` (the cotangent of `y`) back to each of `xs`.
    fn backward<'t>(&'t self, y: Var<'t, T>, xs: &[Var<'t, T>], seed: Var<'t, T>) -> Vec<Var<'t, T>> {
        self.check_owns(y, "backward");
        self.check_owns(seed, "backward (cotangent)");
        for (k, x) in xs.iter().enumerate() {
            self.check_owns(*x, "backward (with respect to)");
            assert!(
                self.requires_grad(x.id),
                "backward: input {k} (shape {:?}) does not require grad: it is a constant, or was made under no_grad or detach. Create it with Tape::var to differentiate with respect to it",
                x.shape()
            );
        }
        assert_eq!(
            y.shape(),
            seed.shape(),
            "vjp: the cotangent has shape {:?} but the output has shape {:?}",
            seed.shape(),
            y.shape()
        );

        // Only nodes that depend on some x need a cotangent: mark them in one forward sweep.
        let lo = xs.iter().map(|x| x.id).min().unwrap_or(y.id + 1);
        let mut relevant = vec![false; y.id + 1];
        {
            let nodes = self.nodes.borrow();
            for x in xs.iter().filter(|x| x.id <= y.id) {
                relevant[x.id] = true;
            }
            for id in lo..=y.id {
                let node = &nodes[id];
                if !relevant[id] && node.op.is_some() {
                    relevant[id] = node.inputs.as_slice().iter().any(|&i| i >= lo && relevant[i]);
                }
            }
        }

        // The fast path drops scratch values as soon as nothing can read them (see `scratch`).
        let mut release = (!self.recording.get()).then(|| ScratchRelease::new(self.len()));
        let mut is_target = vec![false; y.id + 1];
        for x in xs.iter().filter(|x| x.id <= y.id) {
            is_target[x.id] = true;
        }
        let mut cotangents: Vec<Option<Var<'t, T>>> = vec![None; y.id + 1];
        if relevant[y.id] {
            cotangents[y.id] = Some(seed);
        }
        for id in (lo..=y.id).rev() {
            let Some(grad) = cotangents[id] else { continue };
            let created_from = self.len();
            let (op, inputs) = {
                let nodes = self.nodes.borrow();
                match &nodes[id].op {
                    Some(op) => (op.clone(), nodes[id].inputs.clone()),
                    None => continue,
                }
            };
            let inputs = inputs.as_slice();
            let input_vars = || inputs.iter().map(|&i| Var::new(self, i));
            let wants = || inputs.iter().map(|&i| i >= lo && relevant[i]);
            let outer = self.backward_of.replace(Some(op.name()));
            let input_grads = with_small_list(input_vars(), |vars| {
                with_small_list(wants(), |wants| op.vjp(vars, Var::new(self, id), grad, wants))
            });
            self.backward_of.set(outer);
            assert_eq!(
                input_grads.len(),
                inputs.len(),
                "the VJP of `{}` returned {} gradients for {} inputs",
                op.name(),
                input_grads.len(),
                inputs.len()
            );
            for ((g, input), wanted) in input_grads.into_iter().zip(input_vars()).zip(wants()) {
                let Some(g) = g.filter(|_| wanted) else { continue };
                let same_shape = self.with_value(g.id, |a| self.with_value(input.id, |b| a.shape() == b.shape()));
                assert!(
                    same_shape,
                    "the VJP of `{}` returned a gradient of shape {:?} for an input of shape {:?}",
                    op.name(),
                    g.shape(),
                    input.shape()
                );
                let sum = match cotangents[input.id] {
                    None => g,
                    Some(acc) => {
                        let sum = acc + g;
                        if let Some(release) = release.as_mut() {
                            release.let_go(acc.id);
                            if release.is_dead(acc.id) {
                                self.nodes.borrow_mut()[acc.id].value = Tensor::released();
                            }
                        }
                        sum
                    }
                };
                if let Some(release) = release.as_mut() {
                    release.hold(sum.id);
                }
                cotangents[input.id] = Some(sum);
            }
            if let Some(release) = release.as_mut() {
                // This node's cotangent has been pulled back: unless it is an answer, it is read
                // no more. Neither are this step's temporaries that no slot took.
                if !is_target[id] {
                    release.let_go(grad.id);
                    cotangents[id] = None;
                }
                let mut nodes = self.nodes.borrow_mut();
                for dead in (created_from..nodes.len()).chain([grad.id]) {
                    if release.is_dead(dead) {
                        nodes[dead].value = Tensor::released();
                    }
                }
            }
        }
        xs.iter()
            .map(|x| match cotangents.get(x.id).copied().flatten() {
                Some(g) => g,
                None => self.constant(Tensor::zeros(&x.shape())),
            })
            .collect()
    }
}

/// Restores the tape's recording flag when dropped, also on unwinding.
struct RestoreRecording<'a, T: Float> {
    tape: &'a Tape<T>,
    previous: bool,
}

impl<'a, T: Float> RestoreRecording<'a, T> {
    fn set(tape: &'a Tape<T>, recording: bool) -> Self {
        let previous = tape.recording.replace(recording);
        RestoreRecording { tape, previous }
    }
}

impl<T: Float> Drop for RestoreRecording<'_, T> {
    fn drop(&mut self) {
        self.tape.recording.set(self.previous);
    }
}

/// Same shape, and the same value at every position (NaN matching NaN).
#[allow(clippy::eq_op)]
fn same_values<T: Float>(a: &Tensor<T>, b: &Tensor<T>) -> bool {
    a.shape() == b.shape() && a.to_vec().iter().zip(b.to_vec()).all(|(&x, y)| x == y || (x != x && y != y))
}
