//! `Params`: ordered, named tensors that live outside any tape, and `ParamVars`: the same
//! lifted onto a tape, with name scoping for nested modules.

use metagrad_autodiff::{Float, Tape, Tensor, Var};
use std::rc::Rc;

/// Ordered, named tensors: a model's parameters (or its gradients, or optimiser state).
///
/// Names are paths, `"encoder.0.weight"`; the order is insertion order, which fixes the order
/// of every sum over parameters (so results are reproducible).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Params<T: Float> {
    entries: Vec<(String, Tensor<T>)>,
}

impl<T: Float> Params<T> {
    /// No parameters.
    pub fn new() -> Self {
        Params { entries: Vec::new() }
    }

    /// Adds (or replaces) `name`.
    pub fn insert(&mut self, name: impl Into<String>, value: Tensor<T>) {
        let name = name.into();
        match self.entries.iter_mut().find(|(n, _)| *n == name) {
            Some(entry) => entry.1 = value,
            None => self.entries.push((name, value)),
        }
    }

    /// Adds every entry of `other` under `prefix.` (how composite modules name their parts).
    pub fn extend_prefixed(&mut self, prefix: &str, other: Params<T>) {
        for (name, value) in other.entries {
            self.insert(join(prefix, &name), value);
        }
    }

    /// The tensor called `name`.
    pub fn get(&self, name: &str) -> Option<&Tensor<T>> {
        self.entries.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// Names and tensors, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Tensor<T>)> {
        self.entries.iter().map(|(n, v)| (n.as_str(), v))
    }

    /// The names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(n, _)| n.as_str())
    }

    /// The tensors, in order.
    pub fn tensors(&self) -> impl Iterator<Item = &Tensor<T>> {
        self.entries.iter().map(|(_, v)| v)
    }

    /// Number of tensors.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Total number of scalars.
    pub fn numel(&self) -> usize {
        self.tensors().map(Tensor::len).sum()
    }

    /// The same names with `f` applied to each tensor.
    pub fn map(&self, f: impl Fn(&Tensor<T>) -> Tensor<T>) -> Self {
        Params { entries: self.entries.iter().map(|(n, v)| (n.clone(), f(v))).collect() }
    }

    /// Combines two parameter sets with the same names and shapes, entry by entry.
    ///
    /// # Panics
    /// If the names or shapes differ.
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
    pub fn axpy(&self, alpha: T, other: &Self) -> Self {
        self.zip_map(other, |a, b| a + alpha * b)
    }

    /// The Euclidean norm over all scalars.
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
#[derive(Clone, Debug)]
pub struct ParamVars<'t, T: Float> {
    vars: Rc<Vec<(String, Var<'t, T>)>>,
    prefix: String,
}

impl<'t, T: Float> ParamVars<'t, T> {
    /// Builds a set from names and Vars (adapted parameters after an inner step, say).
    pub fn from_pairs(pairs: Vec<(String, Var<'t, T>)>) -> Self {
        ParamVars { vars: Rc::new(pairs), prefix: String::new() }
    }

    /// The Var called `name` within this scope.
    ///
    /// # Panics
    /// If there is none: the module and its parameters disagree, a programmer error.
    pub fn get(&self, name: &str) -> Var<'t, T> {
        let full = join(&self.prefix, name);
        self.vars.iter().find(|(n, _)| *n == full).map(|(_, v)| *v).unwrap_or_else(|| {
            let names: Vec<&str> = self.vars.iter().map(|(n, _)| n.as_str()).collect();
            panic!("no parameter `{full}`; the parameters are {names:?}")
        })
    }

    /// The full name of `name` in this scope (for keys of non-parameter state).
    pub fn full_name(&self, name: &str) -> String {
        join(&self.prefix, name)
    }

    /// The scope of a child module called `child`.
    pub fn scoped(&self, child: &str) -> Self {
        ParamVars { vars: self.vars.clone(), prefix: join(&self.prefix, child) }
    }

    /// All Vars in order (whatever the scope), e.g. to take gradients with respect to them.
    pub fn vars(&self) -> Vec<Var<'t, T>> {
        self.vars.iter().map(|(_, v)| *v).collect()
    }

    /// All names in order.
    pub fn names(&self) -> Vec<String> {
        self.vars.iter().map(|(n, _)| n.clone()).collect()
    }

    /// The current values as [`Params`].
    pub fn values(&self) -> Params<T> {
        Params::from_pairs(self.vars.iter().map(|(n, v)| (n.clone(), v.value())))
    }

    /// Gradients of the scalar `loss` with respect to every parameter, as [`Params`] (fast path).
    pub fn grad(&self, loss: Var<'t, T>) -> Params<T> {
        let grads = loss.tape().grad(loss, &self.vars());
        Params::from_pairs(self.names().into_iter().zip(grads))
    }

    /// Gradients recorded on the tape (for differentiating through them).
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
