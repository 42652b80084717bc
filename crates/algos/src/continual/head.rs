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
pub fn head_positions(labels: &[usize], head: &[usize]) -> Vec<usize> {
    labels
        .iter()
        .map(|l| head.iter().position(|c| c == l).unwrap_or_else(|| panic!("class {l} is not in the head {head:?}")))
        .collect()
}

/// Mean cross-entropy of `labels` (original classes) against the softmax over `head`.
pub fn head_loss<'t, T: Float>(logits: Var<'t, T>, labels: &[usize], head: &[usize]) -> Var<'t, T> {
    let positions = head_positions(labels, head);
    cross_entropy(head_logits(logits, head), Targets::Classes(&positions), 0.0, Reduction::Mean)
}
