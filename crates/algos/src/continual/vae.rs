//! A variational autoencoder (Kingma & Welling 2014) for inputs in `[0, 1]`: the generator of
//! deep generative replay ([`super::generative`]).
//!
//! An encoder MLP gives the mean and log-variance of `q(z|x) = N(mu(x), diag sigma^2(x))`, a
//! decoder MLP the Bernoulli logits of `p(x|z)`, and training minimises the negative evidence
//! lower bound per example,
//!
//! ```text
//! -ELBO(x) = BCE(decoder(z), x) + KL(q(z|x) || N(0, I)),    z = mu + sigma * eps,  eps ~ N(0, I),
//! KL = -1/2 sum_k (1 + log sigma_k^2 - mu_k^2 - sigma_k^2),
//! ```
//!
//! the sample `z` written as a function of `eps` (the reparameterisation) so the gradient
//! reaches the encoder. New inputs are `sigmoid(decoder(z))` for `z ~ N(0, I)`.

use super::Mlp;
use metagrad_autodiff::{Float, Tape, Tensor, Var};
use metagrad_nn::loss::{bce_with_logits, Reduction};
use metagrad_nn::optim::{Adam, Optimizer};
use metagrad_nn::{Context, Module, ParamVars, Params};
use rand::rngs::StdRng;

/// A VAE with one hidden layer in the encoder and in the decoder.
///
/// # Examples
///
/// ```
/// use metagrad_algos::continual::Vae;
/// use rand::{rngs::StdRng, SeedableRng};
///
/// let vae = Vae { inputs: 6, hidden: 4, latent: 2 };
/// let params = vae.init::<f64>(&mut StdRng::seed_from_u64(0));
/// // Encoder 6 -> 4 -> 2 * 2 (means and log-variances), decoder 2 -> 4 -> 6, with biases.
/// assert_eq!(params.numel(), (6 * 4 + 4) + (4 * 4 + 4) + (2 * 4 + 4) + (4 * 6 + 6));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vae {
    /// Input features (784 for MNIST).
    pub inputs: usize,
    /// Hidden units of the encoder and of the decoder.
    pub hidden: usize,
    /// Dimensions of `z`.
    pub latent: usize,
}

impl Vae {
    fn encoder(&self) -> Mlp {
        Mlp::new(&[self.inputs, self.hidden, 2 * self.latent])
    }

    fn decoder(&self) -> Mlp {
        Mlp::new(&[self.latent, self.hidden, self.inputs])
    }

    /// Fresh parameters: `"encoder.*"` and `"decoder.*"`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::continual::Vae;
    /// use rand::{rngs::StdRng, SeedableRng};
    ///
    /// let params = Vae { inputs: 5, hidden: 3, latent: 2 }.init::<f32>(&mut StdRng::seed_from_u64(0));
    /// assert_eq!(params.get("encoder.1.weight").unwrap().shape(), &[3, 4]);
    /// assert_eq!(params.get("decoder.1.weight").unwrap().shape(), &[3, 5]);
    /// ```
    pub fn init<T: Float>(&self, rng: &mut StdRng) -> Params<T> {
        let mut p = Params::new();
        p.extend_prefixed("encoder", Module::<T>::init(&self.encoder(), rng));
        p.extend_prefixed("decoder", Module::<T>::init(&self.decoder(), rng));
        p
    }

    /// The mean of `-ELBO` over the batch `x` `[n, inputs]` (values in `[0, 1]`).
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::continual::Vae;
    /// use metagrad_autodiff::{Tape, Tensor};
    /// use rand::{rngs::StdRng, SeedableRng};
    ///
    /// let vae = Vae { inputs: 2, hidden: 3, latent: 1 };
    /// let params = vae.init::<f64>(&mut StdRng::seed_from_u64(0));
    /// let x = Tensor::from_vec(&[2, 2], vec![1.0, 0.0, 0.0, 1.0]);
    /// let loss = |seed| {
    ///     let tape = Tape::new();
    ///     vae.loss(&params.on(&tape), tape.constant(x.clone()), &mut StdRng::seed_from_u64(seed)).item()
    /// };
    /// // Cross-entropy and KL are both non-negative; the noise comes from the rng alone.
    /// assert!(loss(1) > 0.0);
    /// assert_eq!(loss(1), loss(1));
    /// ```
    pub fn loss<'t, T: Float>(&self, p: &ParamVars<'t, T>, x: Var<'t, T>, rng: &mut StdRng) -> Var<'t, T> {
        let n = x.shape()[0];
        let x = x.reshape(&[n, self.inputs]);
        let stats = self.encoder().forward(&p.scoped("encoder"), x, &mut Context::eval(Params::new()));
        let (mu, log_var) = (stats.narrow(1, 0, self.latent), stats.narrow(1, self.latent, self.latent));
        let eps = x.constant(Tensor::randn(&[n, self.latent], rng));
        let z = mu + (log_var * T::of(0.5)).exp() * eps;
        let logits = self.decoder().forward(&p.scoped("decoder"), z, &mut Context::eval(Params::new()));
        let reconstruction = bce_with_logits(logits, x, Reduction::Sum);
        let kl = (log_var.exp() + mu.square() - log_var - T::one()).sum() * T::of(0.5);
        (reconstruction + kl) / T::of(n as f64)
    }

    /// `count` new inputs `[count, inputs]`: the decoder's means for `z ~ N(0, I)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::continual::Vae;
    /// use rand::{rngs::StdRng, SeedableRng};
    ///
    /// let vae = Vae { inputs: 3, hidden: 4, latent: 2 };
    /// let mut rng = StdRng::seed_from_u64(0);
    /// let params = vae.init::<f64>(&mut rng);
    /// let x = vae.sample(&params, 5, &mut rng);
    /// // Bernoulli means: one row per sample, every value strictly between 0 and 1.
    /// assert_eq!(x.shape(), &[5, 3]);
    /// assert!(x.to_vec().iter().all(|&v| v > 0.0 && v < 1.0));
    /// ```
    pub fn sample<T: Float>(&self, params: &Params<T>, count: usize, rng: &mut StdRng) -> Tensor<T> {
        let tape = Tape::new();
        tape.no_grad(|| {
            let z = tape.constant(Tensor::randn(&[count, self.latent], rng));
            let p = params.on(&tape);
            self.decoder().forward(&p.scoped("decoder"), z, &mut Context::eval(Params::new())).sigmoid().value()
        })
    }

    /// `iterations` Adam steps (rate `lr`) on batches from `batches(rng)`, each a list of
    /// `(inputs, weight)`; returns the last step's loss.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::continual::Vae;
    /// use metagrad_autodiff::Tensor;
    /// use rand::{rngs::StdRng, SeedableRng};
    ///
    /// let vae = Vae { inputs: 2, hidden: 4, latent: 1 };
    /// let mut rng = StdRng::seed_from_u64(0);
    /// let mut params = vae.init::<f64>(&mut rng);
    /// // Every input is (1, 0): the decoder can learn it whatever z is.
    /// let x = Tensor::from_vec(&[4, 2], vec![1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0]);
    /// let first = vae.train(&mut params, 1, 0.05, &mut rng, |_| vec![(x.clone(), 1.0)]);
    /// let last = vae.train(&mut params, 60, 0.05, &mut rng, |_| vec![(x.clone(), 1.0)]);
    /// assert!(last < first / 2.0, "{first} -> {last}");
    /// ```
    pub fn train<T: Float>(
        &self,
        params: &mut Params<T>,
        iterations: usize,
        lr: f64,
        rng: &mut StdRng,
        mut batches: impl FnMut(&mut StdRng) -> Vec<(Tensor<T>, f64)>,
    ) -> f64 {
        let mut optimizer = Adam::new(lr);
        let mut last = f64::NAN;
        for _ in 0..iterations {
            let tape = Tape::new();
            let p = params.on(&tape);
            let loss = batches(rng)
                .into_iter()
                .map(|(x, weight)| self.loss(&p, tape.constant(x), rng) * T::of(weight))
                .reduce(|a, b| a + b)
                .expect("at least one batch");
            last = loss.item().to_f64().unwrap_or(f64::NAN);
            let grads = p.grad(loss);
            optimizer.step(params, &grads);
        }
        last
    }
}
