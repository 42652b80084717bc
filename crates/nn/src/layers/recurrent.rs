//! Recurrent cells, unrolled through time so that backpropagation through time is ordinary
//! reverse mode over the unrolled graph (and second order comes with it).
//!
//! - RNN (Elman 1990): `h' = tanh(x W + h U + b)`.
//! - LSTM (Hochreiter & Schmidhuber 1997, with a forget gate): gates `[i, f, g, o] = x W + h U + b`,
//!   `c' = sigmoid(f) c + sigmoid(i) tanh(g)`, `h' = sigmoid(o) tanh(c')`.
//! - GRU (Cho et al. 2014): `[r, z] = sigmoid(x W_rz + h U_rz + b_rz)`,
//!   `n = tanh(x W_n + r (h U_n) + b_n)`, `h' = (1 - z) n + z h`.

use crate::{init, ParamVars, Params};
use metagrad_autodiff::{Float, Tensor, Var};
use rand::rngs::StdRng;

/// Which recurrence.
///
/// # Examples
///
/// ```
/// use metagrad_nn::layers::{CellKind, Recurrent};
/// use rand::{rngs::StdRng, SeedableRng};
///
/// // The kind fixes how many gate blocks of `hidden` columns the weights hold.
/// for (kind, gates) in [(CellKind::Rnn, 1usize), (CellKind::Lstm, 4), (CellKind::Gru, 3)] {
///     let cell = Recurrent { kind, inputs: 2, hidden: 5 };
///     let params = cell.init::<f64>(&mut StdRng::seed_from_u64(0));
///     assert_eq!(params.get("w").unwrap().shape(), &[2, 5 * gates]);
/// }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CellKind {
    /// Elman RNN with tanh.
    Rnn,
    /// Long short-term memory.
    Lstm,
    /// Gated recurrent unit.
    Gru,
}

/// A recurrent cell mapping `[N, inputs]` and a state to a new state, `hidden` wide.
///
/// ```
/// use metagrad_autodiff::{Tape, Tensor};
/// use metagrad_nn::layers::{CellKind, Recurrent};
/// use rand::SeedableRng;
///
/// let lstm = Recurrent { kind: CellKind::Lstm, inputs: 3, hidden: 5 };
/// let params = lstm.init::<f64>(&mut rand::rngs::StdRng::seed_from_u64(0));
/// let tape = Tape::new();
/// let p = params.on(&tape);
/// let (outputs, last) = lstm.unroll(&p, tape.constant(Tensor::zeros(&[7, 2, 3]))); // [T, N, inputs]
/// assert_eq!((outputs.shape(), last.h.shape()), (vec![7, 2, 5], vec![2, 5]));
/// let grads = p.grad(outputs.sum()); // backpropagation through time
/// assert_eq!(grads.len(), 3);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Recurrent {
    /// Which recurrence.
    pub kind: CellKind,
    /// Input features.
    pub inputs: usize,
    /// Hidden units.
    pub hidden: usize,
}

/// A recurrent state: `h`, and the LSTM's cell `c`.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::{Tape, Tensor};
/// use metagrad_nn::layers::{CellKind, Recurrent};
/// use rand::{rngs::StdRng, SeedableRng};
///
/// let tape = Tape::<f64>::new();
/// let x = tape.constant(Tensor::ones(&[2, 3]));
/// for kind in [CellKind::Rnn, CellKind::Lstm, CellKind::Gru] {
///     let cell = Recurrent { kind, inputs: 3, hidden: 4 };
///     let params = cell.init(&mut StdRng::seed_from_u64(0));
///     let state = cell.step(&params.on(&tape), x, cell.zero_state(x, 2));
///     assert_eq!((state.h.shape(), state.c.shape()), (vec![2, 4], vec![2, 4]));
///     // Only the LSTM carries a cell state of its own.
///     assert_eq!(state.h.value() != state.c.value(), kind == CellKind::Lstm);
/// }
/// ```
#[derive(Clone, Copy, Debug)]
pub struct State<'t, T: Float> {
    /// Hidden state `[N, hidden]`.
    pub h: Var<'t, T>,
    /// LSTM cell state `[N, hidden]` (equal to `h` for the other cells, unused).
    pub c: Var<'t, T>,
}

impl Recurrent {
    fn gates(&self) -> usize {
        match self.kind {
            CellKind::Rnn => 1,
            CellKind::Lstm => 4,
            CellKind::Gru => 3,
        }
    }

    /// `W [inputs, gates*hidden]`, `U [hidden, gates*hidden]`, `b [gates*hidden]`, uniform in
    /// `+-1/sqrt(hidden)`; the LSTM forget-gate bias starts at 1 (Jozefowicz et al. 2015).
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_nn::layers::{CellKind, Recurrent};
    /// use rand::{rngs::StdRng, SeedableRng};
    ///
    /// let lstm = Recurrent { kind: CellKind::Lstm, inputs: 3, hidden: 2 };
    /// let params = lstm.init::<f64>(&mut StdRng::seed_from_u64(0));
    /// assert_eq!(params.names().collect::<Vec<_>>(), vec!["w", "u", "b"]);
    /// assert_eq!(params.get("u").unwrap().shape(), &[2, 8]); // [hidden, 4 gates * hidden]
    /// // Gates [i, f, g, o]: only the forget gate's bias starts at 1.
    /// assert_eq!(params.get("b").unwrap().to_vec(), vec![0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0]);
    /// assert!(params.get("w").unwrap().to_vec().iter().all(|w| w.abs() <= 1.0 / 2f64.sqrt()));
    /// ```
    pub fn init<T: Float>(&self, rng: &mut StdRng) -> Params<T> {
        let width = self.gates() * self.hidden;
        let gain = (1.0f64 / 3.0).sqrt();
        let mut p = Params::new();
        p.insert("w", init::kaiming_uniform(&[self.inputs, width], self.hidden, gain, rng));
        p.insert("u", init::kaiming_uniform(&[self.hidden, width], self.hidden, gain, rng));
        let mut bias = vec![T::zero(); width];
        if self.kind == CellKind::Lstm {
            bias[self.hidden..2 * self.hidden].iter_mut().for_each(|b| *b = T::one());
        }
        p.insert("b", Tensor::from_vec(&[width], bias));
        p
    }

    /// The zero state for a batch of `n`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    /// use metagrad_nn::layers::{CellKind, Recurrent};
    ///
    /// let gru = Recurrent { kind: CellKind::Gru, inputs: 3, hidden: 4 };
    /// let tape = Tape::<f64>::new();
    /// let x = tape.constant(Tensor::ones(&[5, 3]));
    /// // `like` only supplies the tape; the batch size is passed in.
    /// let state = gru.zero_state(x, 5);
    /// assert_eq!(state.h.value(), Tensor::zeros(&[5, 4]));
    /// assert_eq!(state.c.value(), Tensor::zeros(&[5, 4]));
    /// ```
    pub fn zero_state<'t, T: Float>(&self, like: Var<'t, T>, n: usize) -> State<'t, T> {
        let zeros = like.constant(Tensor::zeros(&[n, self.hidden]));
        State { h: zeros, c: zeros }
    }

    /// One step.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    /// use metagrad_nn::layers::{CellKind, Recurrent};
    /// use metagrad_nn::Params;
    ///
    /// // One hidden unit: h' = tanh(x w + h u + b) with w = 1, u = 0.5 and b = 0.
    /// let rnn = Recurrent { kind: CellKind::Rnn, inputs: 1, hidden: 1 };
    /// let params = Params::from_pairs([
    ///     ("w".to_string(), Tensor::from_vec(&[1, 1], vec![1.0f64])),
    ///     ("u".to_string(), Tensor::from_vec(&[1, 1], vec![0.5])),
    ///     ("b".to_string(), Tensor::from_vec(&[1], vec![0.0])),
    /// ]);
    /// let tape = Tape::new();
    /// let p = params.on(&tape);
    /// let x = tape.constant(Tensor::from_vec(&[1, 1], vec![2.0]));
    /// let s1 = rnn.step(&p, x, rnn.zero_state(x, 1));
    /// let s2 = rnn.step(&p, x, s1);
    /// assert!((s1.h.item() - 2f64.tanh()).abs() < 1e-12);
    /// assert!((s2.h.item() - (2.0 + 0.5 * 2f64.tanh()).tanh()).abs() < 1e-12);
    /// ```
    pub fn step<'t, T: Float>(&self, p: &ParamVars<'t, T>, x: Var<'t, T>, state: State<'t, T>) -> State<'t, T> {
        let hidden = self.hidden;
        let (w, u, b) = (p.get("w"), p.get("u"), p.get("b"));
        let gate = |z: Var<'t, T>, k: usize| z.narrow(1, k * hidden, hidden);
        match self.kind {
            CellKind::Rnn => {
                let h = (x.matmul(w) + state.h.matmul(u) + b).tanh();
                State { h, c: h }
            }
            CellKind::Lstm => {
                let z = x.matmul(w) + state.h.matmul(u) + b;
                let (i, f, g, o) =
                    (gate(z, 0).sigmoid(), gate(z, 1).sigmoid(), gate(z, 2).tanh(), gate(z, 3).sigmoid());
                let c = f * state.c + i * g;
                State { h: o * c.tanh(), c }
            }
            CellKind::Gru => {
                let xw = x.matmul(w) + b;
                let hu = state.h.matmul(u);
                let r = (gate(xw, 0) + gate(hu, 0)).sigmoid();
                let z = (gate(xw, 1) + gate(hu, 1)).sigmoid();
                let n = (gate(xw, 2) + r * gate(hu, 2)).tanh();
                let h = n + z * (state.h - n); // (1 - z) n + z h
                State { h, c: h }
            }
        }
    }

    /// Runs over a sequence `[T, N, inputs]` from the zero state; returns every hidden state
    /// `[T, N, hidden]` and the final state.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    /// use metagrad_nn::layers::{CellKind, Recurrent};
    /// use rand::{rngs::StdRng, SeedableRng};
    ///
    /// let gru = Recurrent { kind: CellKind::Gru, inputs: 2, hidden: 3 };
    /// let mut rng = StdRng::seed_from_u64(0);
    /// let params = gru.init::<f64>(&mut rng);
    /// let tape = Tape::new();
    /// let p = params.on(&tape);
    /// let xs = tape.constant(Tensor::randn(&[4, 1, 2], &mut rng)); // [T, N, inputs]
    /// let (outputs, last) = gru.unroll(&p, xs);
    /// assert_eq!(outputs.shape(), vec![4, 1, 3]);
    /// // The same as stepping by hand from the zero state; the last output is the final state.
    /// let mut state = gru.zero_state(xs, 1);
    /// for t in 0..4 {
    ///     state = gru.step(&p, xs.narrow(0, t, 1).squeeze(0), state);
    /// }
    /// assert_eq!(state.h.value(), last.h.value());
    /// assert_eq!(outputs.narrow(0, 3, 1).squeeze(0).value(), last.h.value());
    /// ```
    pub fn unroll<'t, T: Float>(&self, p: &ParamVars<'t, T>, xs: Var<'t, T>) -> (Var<'t, T>, State<'t, T>) {
        let s = xs.shape();
        assert!(
            s.len() == 3 && s[2] == self.inputs,
            "Recurrent: sequence of shape {s:?} is not [T, N, {}]",
            self.inputs
        );
        let mut state = self.zero_state(xs, s[1]);
        let mut outputs = Vec::with_capacity(s[0]);
        for t in 0..s[0] {
            state = self.step(p, xs.narrow(0, t, 1).squeeze(0), state);
            outputs.push(state.h);
        }
        (metagrad_autodiff::stack(&outputs, 0), state)
    }
}
