//! Heads: the columns of the output layer that compete in the softmax.
//!
//! A head is a list of classes. Its logits are the output's columns for those classes, taken
//! by one product with a constant 0/1 selection matrix (so the gradient routes back into those
//! columns only), and a label is its class's position in the list.

use metagrad_autodiff::{Float, Tensor, Var};
use metagrad_nn::loss::{cross_entropy, Reduction, Targets};

/// The logits `[n, head.len()]` of the classes in `head`, from all logits `[n, outputs]`.
///
/// # Panics
/// If `logits` is not 2-d or a class is not below `outputs`.
///
/// # Examples
///
/// ```
/// use metagrad_algos::continual::head_logits;
/// use metagrad_autodiff::{Tape, Tensor};
///
/// let tape = Tape::new();
/// let logits = tape.constant(Tensor::from_vec(&[2, 4], vec![0.0f64, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]));
/// // The columns of classes 3 and 1, in the head's order.
/// assert_eq!(head_logits(logits, &[3, 1]).value().to_vec(), vec![3.0, 1.0, 7.0, 5.0]);
/// ```
pub fn head_logits<'t, T: Float>(logits: Var<'t, T>, head: &[usize]) -> Var<'t, T> {
    let shape = logits.shape();
    assert_eq!(shape.len(), 2, "head_logits: logits of shape {shape:?} are not [n, outputs]");
    let outputs = shape[1];
    if head.len() == outputs && head.iter().enumerate().all(|(i, &c)| i == c) {
        return logits;
    }
    let mut select = vec![T::zero(); outputs * head.len()];
    for (k, &class) in head.iter().enumerate() {
        assert!(class < outputs, "head_logits: class {class} of a head, but only {outputs} outputs");
        select[class * head.len() + k] = T::one();
    }
    logits.matmul(logits.constant(Tensor::from_vec(&[outputs, head.len()], select)))
}

/// Each label's position in `head`.
///
/// # Panics
/// If a label is not in `head`.
///
/// # Examples
///
/// ```
/// use metagrad_algos::continual::head_positions;
///
/// // Digits 4 and 5 are positions 0 and 1 of the head [4, 5].
/// assert_eq!(head_positions(&[5, 4, 5], &[4, 5]), vec![1, 0, 1]);
/// ```
pub fn head_positions(labels: &[usize], head: &[usize]) -> Vec<usize> {
    labels
        .iter()
        .map(|l| head.iter().position(|c| c == l).unwrap_or_else(|| panic!("class {l} is not in the head {head:?}")))
        .collect()
}

/// Mean cross-entropy of `labels` (original classes) against the softmax over `head`.
///
/// # Examples
///
/// ```
/// use metagrad_algos::continual::head_loss;
/// use metagrad_autodiff::{Tape, Tensor};
///
/// let tape = Tape::new();
/// // Class 2's logit is huge, but class 2 is not in the head: the two competing classes are
/// // tied, so the cross-entropy is ln 2.
/// let logits = tape.constant(Tensor::from_vec(&[1, 3], vec![0.0f64, 0.0, 50.0]));
/// assert!((head_loss(logits, &[1], &[0, 1]).item() - 2f64.ln()).abs() < 1e-12);
/// ```
pub fn head_loss<'t, T: Float>(logits: Var<'t, T>, labels: &[usize], head: &[usize]) -> Var<'t, T> {
    let positions = head_positions(labels, head);
    cross_entropy(head_logits(logits, head), Targets::Classes(&positions), 0.0, Reduction::Mean)
}
