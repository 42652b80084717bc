//! `Params`: ordered, named tensors that live outside any tape, and `ParamVars`: the same
//! lifted onto a tape, with name scoping for nested modules.

use metagrad_autodiff::{Float, Tape, Tensor, Var};
use std::rc::Rc;

/// Ordered, named tensors: a model's parameters (or its gradients, or optimiser state).
///
/// Names are paths, `"encoder.0.weight"`; the order is insertion order, which fixes the order
/// of every sum over parameters (so results are reproducible).
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::Tensor;
/// use metagrad_nn::Params;
///
/// let mut params = Params::new();
/// params.insert("w", Tensor::from_vec(&[2, 2], vec![1.0f64, 2.0, 3.0, 4.0]));
/// params.insert("b", Tensor::zeros(&[2]));
/// // Insertion order, not alphabetical order.
/// assert_eq!(params.names().collect::<Vec<_>>(), vec!["w", "b"]);
/// assert_eq!((params.len(), params.numel()), (2, 6));
/// assert_eq!(params.get("w").unwrap().to_vec(), vec![1.0, 2.0, 3.0, 4.0]);
/// ```
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Params<T: Float> {
    entries: Vec<(String, Tensor<T>)>,
}

impl<T: Float> Params<T> {
    /// No parameters.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_nn::Params;
    ///
    /// let params = Params::<f32>::new();
    /// assert!(params.is_empty());
    /// assert_eq!((params.len(), params.numel(), params.l2_norm()), (0, 0, 0.0));
    /// ```
    pub fn new() -> Self {
        Params { entries: Vec::new() }
    }

    /// Adds (or replaces) `name`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::Tensor;
    /// use metagrad_nn::Params;
    ///
    /// let mut params = Params::new();
    /// params.insert("a", Tensor::scalar(1.0f64));
    /// params.insert("b", Tensor::scalar(2.0));
    /// // Replacing keeps the entry where it was.
    /// params.insert("a", Tensor::scalar(5.0));
    /// assert_eq!(params.names().collect::<Vec<_>>(), vec!["a", "b"]);
    /// assert_eq!(params.get("a").unwrap().item(), 5.0);
    /// ```
    pub fn insert(&mut self, name: impl Into<String>, value: Tensor<T>) {
        let name = name.into();
        match self.entries.iter_mut().find(|(n, _)| *n == name) {
            Some(entry) => entry.1 = value,
            None => self.entries.push((name, value)),
        }
    }

    /// Adds every entry of `other` under `prefix.` (how composite modules name their parts).
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::Tensor;
    /// use metagrad_nn::Params;
    ///
    /// let layer = Params::from_pairs([
    ///     ("weight".to_string(), Tensor::ones(&[2])),
    ///     ("bias".to_string(), Tensor::zeros(&[1])),
    /// ]);
    /// let mut net = Params::<f64>::new();
    /// net.extend_prefixed("encoder.0", layer.clone());
    /// net.extend_prefixed("", layer); // an empty prefix keeps the names as they are
    /// assert_eq!(net.names().collect::<Vec<_>>(), vec!["encoder.0.weight", "encoder.0.bias", "weight", "bias"]);
    /// ```
    pub fn extend_prefixed(&mut self, prefix: &str, other: Params<T>) {
        for (name, value) in other.entries {
            self.insert(join(prefix, &name), value);
        }
    }

    /// The tensor called `name`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::Tensor;
    /// use metagrad_nn::Params;
    ///
    /// let params = Params::from_pairs([("w".to_string(), Tensor::from_vec(&[2], vec![0.5f64, -1.0]))]);
    /// assert_eq!(params.get("w").map(|t| t.to_vec()), Some(vec![0.5, -1.0]));
    /// assert!(params.get("missing").is_none());
    /// ```
    pub fn get(&self, name: &str) -> Option<&Tensor<T>> {
        self.entries.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// Names and tensors, in order.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::Tensor;
    /// use metagrad_nn::Params;
    ///
    /// let params = Params::from_pairs([
    ///     ("w".to_string(), Tensor::<f64>::zeros(&[2, 3])),
    ///     ("b".to_string(), Tensor::zeros(&[3])),
    /// ]);
    /// let shapes: Vec<(&str, Vec<usize>)> = params.iter().map(|(name, t)| (name, t.shape().to_vec())).collect();
    /// assert_eq!(shapes, vec![("w", vec![2, 3]), ("b", vec![3])]);
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Tensor<T>)> {
        self.entries.iter().map(|(n, v)| (n.as_str(), v))
    }

    /// The names, in order.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::Tensor;
    /// use metagrad_nn::Params;
    ///
    /// let params = Params::from_pairs(["z", "a", "m"].map(|n| (n.to_string(), Tensor::scalar(0.0f64))));
    /// assert_eq!(params.names().collect::<Vec<_>>(), vec!["z", "a", "m"]); // insertion order
    /// ```
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(n, _)| n.as_str())
    }

    /// The tensors, in order.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::Tensor;
    /// use metagrad_nn::Params;
    ///
    /// let params = Params::from_pairs([
    ///     ("a".to_string(), Tensor::from_vec(&[2], vec![1.0f64, 2.0])),
    ///     ("b".to_string(), Tensor::scalar(4.0)),
    /// ]);
    /// let total: f64 = params.tensors().map(|t| t.sum_all()).sum();
    /// assert_eq!(total, 7.0);
    /// ```
    pub fn tensors(&self) -> impl Iterator<Item = &Tensor<T>> {
        self.entries.iter().map(|(_, v)| v)
    }

    /// Number of tensors.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::Tensor;
    /// use metagrad_nn::Params;
    ///
    /// let params = Params::from_pairs([
    ///     ("w".to_string(), Tensor::<f64>::zeros(&[3, 4])),
    ///     ("b".to_string(), Tensor::zeros(&[4])),
    /// ]);
    /// assert_eq!(params.len(), 2); // tensors, not scalars (that is `numel`)
    /// ```
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there are none.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::Tensor;
    /// use metagrad_nn::Params;
    ///
    /// let mut params = Params::<f64>::new();
    /// assert!(params.is_empty());
    /// params.insert("w", Tensor::zeros(&[0]));
    /// assert!(!params.is_empty()); // an entry counts even when it holds no scalars
    /// ```
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Total number of scalars.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::Tensor;
    /// use metagrad_nn::Params;
    ///
    /// let params = Params::from_pairs([
    ///     ("w".to_string(), Tensor::<f64>::zeros(&[3, 4])),
    ///     ("b".to_string(), Tensor::zeros(&[4])),
    /// ]);
    /// assert_eq!(params.numel(), 3 * 4 + 4);
    /// ```
    pub fn numel(&self) -> usize {
        self.tensors().map(Tensor::len).sum()
    }

    /// The same names with `f` applied to each tensor.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::Tensor;
    /// use metagrad_nn::Params;
    ///
    /// let params = Params::from_pairs([("w".to_string(), Tensor::from_vec(&[2], vec![1.0f64, -3.0]))]);
    /// let zeros = params.map(|t| Tensor::zeros(t.shape())); // fresh optimiser state, say
    /// let doubled = params.map(|t| t.map(|v| 2.0 * v));
    /// assert_eq!(zeros.get("w").unwrap().to_vec(), vec![0.0, 0.0]);
    /// assert_eq!(doubled.get("w").unwrap().to_vec(), vec![2.0, -6.0]);
    /// ```
    pub fn map(&self, f: impl Fn(&Tensor<T>) -> Tensor<T>) -> Self {
        Params { entries: self.entries.iter().map(|(n, v)| (n.clone(), f(v))).collect() }
    }

    /// Combines two parameter sets with the same names and shapes, entry by entry.
    ///
    /// # Panics
    /// If the names or shapes differ.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::Tensor;
    /// use metagrad_nn::Params;
    ///
    /// let a = Params::from_pairs([("w".to_string(), Tensor::from_vec(&[3], vec![1.0f64, 2.0, 3.0]))]);
    /// let b = Params::from_pairs([("w".to_string(), Tensor::from_vec(&[3], vec![4.0, 5.0, 6.0]))]);
    /// assert_eq!(a.zip_map(&b, |x, y| x * y).get("w").unwrap().to_vec(), vec![4.0, 10.0, 18.0]);
    /// ```
    ///
    /// Sets with different names do not combine:
    ///
    /// ```should_panic
    /// use metagrad_autodiff::Tensor;
    /// use metagrad_nn::Params;
    ///
    /// let a = Params::from_pairs([("w".to_string(), Tensor::scalar(1.0f64))]);
    /// let b = Params::from_pairs([("v".to_string(), Tensor::scalar(1.0f64))]);
    /// a.zip_map(&b, |x, y| x + y);
    /// ```
    pub fn zip_map(&self, other: &Self, f: impl Fn(T, T) -> T + Sync) -> Self {
        self.check_same_layout(other, "zip_map");
        Params {
            entries: self
                .entries
                .iter()
                .zip(&other.entries)
                .map(|((n, a), (_, b))| (n.clone(), a.zip_map(b, &f)))
                .collect(),
        }
    }

    /// `self + alpha * other`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::Tensor;
    /// use metagrad_nn::Params;
    ///
    /// let w = Params::from_pairs([("w".to_string(), Tensor::from_vec(&[2], vec![1.0f64, 1.0]))]);
    /// let g = Params::from_pairs([("w".to_string(), Tensor::from_vec(&[2], vec![2.0, -4.0]))]);
    /// // A plain gradient step, w - 0.5 g.
    /// assert_eq!(w.axpy(-0.5, &g).get("w").unwrap().to_vec(), vec![0.0, 3.0]);
    /// ```
    pub fn axpy(&self, alpha: T, other: &Self) -> Self {
        self.zip_map(other, |a, b| a + alpha * b)
    }

    /// The Euclidean norm over all scalars.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::Tensor;
    /// use metagrad_nn::Params;
    ///
    /// // Over all tensors together: sqrt(3^2 + 4^2 + 12^2) = 13.
    /// let params = Params::from_pairs([
    ///     ("a".to_string(), Tensor::from_vec(&[2], vec![3.0f64, 4.0])),
    ///     ("b".to_string(), Tensor::scalar(12.0)),
    /// ]);
    /// assert_eq!(params.l2_norm(), 13.0);
    /// ```
    pub fn l2_norm(&self) -> T {
        self.tensors()
            .map(|t| t.array().iter().fold(T::zero(), |acc, &v| acc + v * v))
            .fold(T::zero(), |a, b| a + b)
            .sqrt()
    }

    /// Lifts every tensor onto `tape` as a leaf that takes gradients (no copy).
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    /// use metagrad_nn::Params;
    ///
    /// let params = Params::from_pairs([("w".to_string(), Tensor::from_vec(&[2], vec![1.0, -2.0]))]);
    /// let tape = Tape::<f64>::new();
    /// let p = params.on(&tape);
    /// let loss = p.get("w").square().sum();
    /// assert_eq!(p.grad(loss).get("w").unwrap().to_vec(), vec![2.0, -4.0]);
    /// ```
    pub fn on<'t>(&self, tape: &'t Tape<T>) -> ParamVars<'t, T> {
        let vars = self.entries.iter().map(|(n, v)| (n.clone(), tape.var(v.clone()))).collect();
        ParamVars { vars: Rc::new(vars), prefix: String::new() }
    }

    /// Builds parameters from names and tensors (gradients from a backward pass, say).
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::Tensor;
    /// use metagrad_nn::Params;
    ///
    /// let grads = Params::from_pairs(vec![
    ///     ("w".to_string(), Tensor::scalar(1.0f64)),
    ///     ("b".to_string(), Tensor::scalar(2.0)),
    ///     ("w".to_string(), Tensor::scalar(3.0)),
    /// ]);
    /// // A repeated name replaces the earlier tensor in place, as `insert` does.
    /// assert_eq!(grads.names().collect::<Vec<_>>(), vec!["w", "b"]);
    /// assert_eq!(grads.get("w").unwrap().item(), 3.0);
    /// ```
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, Tensor<T>)>) -> Self {
        let mut params = Params::new();
        for (n, v) in pairs {
            params.insert(n, v);
        }
        params
    }

    fn check_same_layout(&self, other: &Self, what: &str) {
        let same = self.entries.len() == other.entries.len()
            && self.entries.iter().zip(&other.entries).all(|((n, a), (m, b))| n == m && a.shape() == b.shape());
        assert!(
            same,
            "Params::{what}: the two sets differ in names or shapes: {:?} vs {:?}",
            self.layout(),
            other.layout()
        );
    }

    fn layout(&self) -> Vec<(String, Vec<usize>)> {
        self.entries.iter().map(|(n, v)| (n.clone(), v.shape().to_vec())).collect()
    }
}

pub(crate) fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

/// Parameters on a tape, looked up by name within a scope.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::{Tape, Tensor};
/// use metagrad_nn::Params;
///
/// let mut params = Params::new();
/// params.insert("enc.w", Tensor::from_vec(&[2], vec![1.0f64, 2.0]));
/// params.insert("head.w", Tensor::scalar(3.0));
/// let tape = Tape::new();
/// let p = params.on(&tape);
/// // A child module sees its own parameters by their short names.
/// let enc = p.scoped("enc");
/// assert_eq!(enc.get("w").value().to_vec(), vec![1.0, 2.0]);
/// let grads = p.grad((enc.get("w") * p.get("head.w")).sum());
/// assert_eq!(grads.get("enc.w").unwrap().to_vec(), vec![3.0, 3.0]);
/// assert_eq!(grads.get("head.w").unwrap().item(), 3.0); // 1 + 2
/// ```
#[derive(Clone, Debug)]
pub struct ParamVars<'t, T: Float> {
    vars: Rc<Vec<(String, Var<'t, T>)>>,
    prefix: String,
}

impl<'t, T: Float> ParamVars<'t, T> {
    /// Builds a set from names and Vars (adapted parameters after an inner step, say).
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    /// use metagrad_nn::{ParamVars, Params};
    ///
    /// let params = Params::from_pairs([("w".to_string(), Tensor::scalar(2.0f64))]);
    /// let tape = Tape::new();
    /// let p = params.on(&tape);
    /// // One differentiable SGD step on w^2, kept on the tape: w' = w - 0.1 (2 w) = 0.8 w.
    /// let g = p.grad_graph(p.get("w").square())[0];
    /// let adapted = ParamVars::from_pairs(vec![("w".to_string(), p.get("w") - g * 0.1)]);
    /// assert!((adapted.get("w").item() - 1.6).abs() < 1e-12);
    /// // The meta-gradient reaches the original w: d/dw (0.8 w)^2 = 1.28 w = 2.56.
    /// let meta = tape.grad(adapted.get("w").square(), &[p.get("w")])[0].item();
    /// assert!((meta - 2.56).abs() < 1e-12);
    /// ```
    pub fn from_pairs(pairs: Vec<(String, Var<'t, T>)>) -> Self {
        ParamVars { vars: Rc::new(pairs), prefix: String::new() }
    }

    /// The Var called `name` within this scope.
    ///
    /// # Panics
    /// If there is none: the module and its parameters disagree, a programmer error.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    /// use metagrad_nn::Params;
    ///
    /// let params = Params::from_pairs([("block.0.weight".to_string(), Tensor::scalar(1.5f64))]);
    /// let tape = Tape::new();
    /// let p = params.on(&tape);
    /// // The full name from the root, or the short name inside the scope.
    /// assert_eq!(p.get("block.0.weight").item(), 1.5);
    /// assert_eq!(p.scoped("block").scoped("0").get("weight").item(), 1.5);
    /// ```
    pub fn get(&self, name: &str) -> Var<'t, T> {
        let full = join(&self.prefix, name);
        self.vars.iter().find(|(n, _)| *n == full).map(|(_, v)| *v).unwrap_or_else(|| {
            let names: Vec<&str> = self.vars.iter().map(|(n, _)| n.as_str()).collect();
            panic!("no parameter `{full}`; the parameters are {names:?}")
        })
    }

    /// The full name of `name` in this scope (for keys of non-parameter state).
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::Tape;
    /// use metagrad_nn::Params;
    ///
    /// let tape = Tape::new();
    /// let p = Params::<f64>::new().on(&tape);
    /// assert_eq!(p.full_name("running_mean"), "running_mean");
    /// assert_eq!(p.scoped("features").scoped("3").full_name("running_mean"), "features.3.running_mean");
    /// ```
    pub fn full_name(&self, name: &str) -> String {
        join(&self.prefix, name)
    }

    /// The scope of a child module called `child`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    /// use metagrad_nn::Params;
    ///
    /// let mut params = Params::new();
    /// params.insert("0.weight", Tensor::scalar(1.0f64));
    /// params.insert("1.weight", Tensor::scalar(2.0));
    /// let tape = Tape::new();
    /// let p = params.on(&tape);
    /// // Two parts of a network, each reading "weight" in its own scope.
    /// let weights: Vec<f64> = ["0", "1"].iter().map(|part| p.scoped(part).get("weight").item()).collect();
    /// assert_eq!(weights, vec![1.0, 2.0]);
    /// ```
    pub fn scoped(&self, child: &str) -> Self {
        ParamVars { vars: self.vars.clone(), prefix: join(&self.prefix, child) }
    }

    /// All Vars in order (whatever the scope), e.g. to take gradients with respect to them.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    /// use metagrad_nn::Params;
    ///
    /// let mut params = Params::new();
    /// params.insert("a.w", Tensor::scalar(2.0f64));
    /// params.insert("b.w", Tensor::scalar(5.0));
    /// let tape = Tape::new();
    /// let vars = params.on(&tape).scoped("a").vars(); // every parameter, not only those under "a"
    /// assert_eq!(vars.len(), 2);
    /// let grads = tape.grad(vars[0] * vars[1], &vars);
    /// assert_eq!((grads[0].item(), grads[1].item()), (5.0, 2.0));
    /// ```
    pub fn vars(&self) -> Vec<Var<'t, T>> {
        self.vars.iter().map(|(_, v)| *v).collect()
    }

    /// All names in order.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    /// use metagrad_nn::Params;
    ///
    /// let mut params = Params::new();
    /// params.insert("a.w", Tensor::scalar(1.0f64));
    /// params.insert("b.w", Tensor::scalar(2.0));
    /// let tape = Tape::new();
    /// // Full names, whatever the scope.
    /// assert_eq!(params.on(&tape).scoped("b").names(), vec!["a.w", "b.w"]);
    /// ```
    pub fn names(&self) -> Vec<String> {
        self.vars.iter().map(|(n, _)| n.clone()).collect()
    }

    /// The current values as [`Params`].
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    /// use metagrad_nn::{ParamVars, Params};
    ///
    /// let params = Params::from_pairs([("w".to_string(), Tensor::from_vec(&[2], vec![1.0f64, 2.0]))]);
    /// let tape = Tape::new();
    /// let p = params.on(&tape);
    /// assert_eq!(p.values(), params); // lifting and reading back loses nothing
    /// let moved = ParamVars::from_pairs(vec![("w".to_string(), p.get("w") * 3.0)]);
    /// assert_eq!(moved.values().get("w").unwrap().to_vec(), vec![3.0, 6.0]);
    /// ```
    pub fn values(&self) -> Params<T> {
        Params::from_pairs(self.vars.iter().map(|(n, v)| (n.clone(), v.value())))
    }

    /// Gradients of the scalar `loss` with respect to every parameter, as [`Params`] (fast path).
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    /// use metagrad_nn::Params;
    ///
    /// let params = Params::from_pairs([
    ///     ("w".to_string(), Tensor::from_vec(&[2], vec![1.0f64, 2.0])),
    ///     ("b".to_string(), Tensor::scalar(0.5)),
    /// ]);
    /// let tape = Tape::new();
    /// let p = params.on(&tape);
    /// let x = tape.constant(Tensor::from_vec(&[2], vec![3.0, -1.0]));
    /// // loss = sum(w x) + b: the gradient is x for w and 1 for b.
    /// let grads = p.grad((p.get("w") * x).sum() + p.get("b"));
    /// assert_eq!(grads.get("w").unwrap().to_vec(), vec![3.0, -1.0]);
    /// assert_eq!(grads.get("b").unwrap().item(), 1.0);
    /// ```
    pub fn grad(&self, loss: Var<'t, T>) -> Params<T> {
        let grads = loss.tape().grad(loss, &self.vars());
        Params::from_pairs(self.names().into_iter().zip(grads))
    }

    /// Gradients recorded on the tape (for differentiating through them).
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    /// use metagrad_nn::Params;
    ///
    /// let params = Params::from_pairs([("w".to_string(), Tensor::from_vec(&[2], vec![1.0f64, 2.0]))]);
    /// let tape = Tape::new();
    /// let p = params.on(&tape);
    /// let w = p.get("w");
    /// let g = p.grad_graph((w * w * w).sum())[0]; // 3 w^2
    /// assert_eq!(g.value().to_vec(), vec![3.0, 12.0]);
    /// // The gradient is itself on the tape: d/dw sum(3 w^2) = 6 w.
    /// assert_eq!(p.grad(g.sum()).get("w").unwrap().to_vec(), vec![6.0, 12.0]);
    /// ```
    pub fn grad_graph(&self, loss: Var<'t, T>) -> Vec<Var<'t, T>> {
        loss.tape().grad_graph(loss, &self.vars())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_order_scopes_and_helpers() {
        let mut p = Params::<f64>::new();
        p.insert("b", Tensor::ones(&[2]));
        p.extend_prefixed("enc", Params::from_pairs([("w".to_string(), Tensor::full(&[2], 2.0))]));
        assert_eq!(p.names().collect::<Vec<_>>(), vec!["b", "enc.w"]);
        assert_eq!(p.numel(), 4);
        assert!((p.l2_norm() - (2.0f64 + 8.0).sqrt()).abs() < 1e-12);
        let q = p.axpy(-0.5, &p);
        assert_eq!(q.get("enc.w").unwrap().to_vec(), vec![1.0, 1.0]);
        let tape = Tape::new();
        let vars = p.on(&tape);
        assert_eq!(vars.scoped("enc").get("w").value().to_vec(), vec![2.0, 2.0]);
        let grads = vars.grad((vars.get("b") * vars.get("enc.w")).sum());
        assert_eq!(grads.get("b").unwrap().to_vec(), vec![2.0, 2.0]);
    }

    #[test]
    #[should_panic(expected = "no parameter `enc.missing`")]
    fn missing_parameter_names_it() {
        let p = Params::<f32>::new();
        let tape = Tape::new();
        p.on(&tape).scoped("enc").get("missing");
    }
}
