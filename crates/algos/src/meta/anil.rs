//! ANIL, "almost no inner loop" (Raghu, Raghu, Bengio & Vinyals 2020): MAML whose inner loop
//! adapts only the network's head.
//!
//! Split the parameters into a body `phi` (the feature extractor) and a head `w`. The inner
//! loop moves the head alone,
//!
//! ```text
//! w_0 = w,    w_{i+1} = w_i - alpha * grad_w L_S(phi, w_i),
//! ```
//!
//! and the meta-objective `L_Q(phi, w_k)` is differentiated with respect to both, through the
//! head's steps. Raghu et al. found the body's features barely change in MAML's inner loop
//! ("feature reuse"), so removing the body from it keeps accuracy and cuts the cost: the
//! second-order terms now involve only the head's Hessian.
//!
//! The inner loop itself is [`Maml`]'s, restricted by name; see [`super::r2d2`] for a head
//! solved in closed form instead of by gradient steps.

use super::Maml;

/// ANIL with `inner_steps` steps of rate `inner_lr` on the parameters whose names start with
/// `head_prefix` (for a [`Sequential`](metagrad_nn::Sequential) whose last layer is part 4,
/// the prefix is `"4."`).
///
/// # Examples
///
/// ```
/// use metagrad_algos::meta::{anil::anil, evaluate, sinusoid, Episode, MetaMethod};
/// use metagrad_nn::Module;
/// use rand::{rngs::StdRng, SeedableRng};
///
/// let method = anil(1, 0.05, sinusoid::HEAD_PREFIX);
/// assert_eq!(MetaMethod::<f64>::name(&method), "anil");
/// // Adapting the head alone still fits the support set: judged on the support points
/// // themselves, the error falls over ten steps.
/// let mut rng = StdRng::seed_from_u64(3);
/// let model = sinusoid::network::<f64>(8);
/// let meta = model.init(&mut rng);
/// let (_, task) = sinusoid::episode(5, 5, &mut rng);
/// let fit = Episode { support: task.support.clone(), query: task.support };
/// let scores = evaluate(&method, &model, &meta, &[fit], &[0, 10]);
/// assert!(scores[1].mean < scores[0].mean);
/// ```
pub fn anil(inner_steps: usize, inner_lr: f64, head_prefix: &str) -> Maml {
    Maml { adapt_only: Some(head_prefix.to_string()), ..Maml::new(inner_steps, inner_lr) }
}
