//! Deep generative replay (Shin, Lee, Kim & Kim 2017).
//!
//! The learner is a *scholar*: a generator that can produce inputs like those of every task so
//! far, and a solver (the classifier being trained). While task `t` trains, each step replays
//! inputs drawn from the previous generator, labelled by the previous solver (its most likely
//! class in each earlier head), so no real old example is kept. When task `t` ends, the
//! generator is trained on the new task's inputs together with its predecessor's samples,
//!
//! ```text
//! L_gen = 1/(t+1) (-ELBO on task t's inputs) + (1 - 1/(t+1)) (-ELBO on the old generator's samples),
//! ```
//!
//! and the generator and the solver become the "previous" pair of the next task. The
//! generator here is a [`Vae`].

use super::{head_logits, Classifier, ReplayGroup, Scenario, Strategy, TaskContext, Vae};
use super::{Labelled, Task};
use metagrad_autodiff::{Float, Tape, Tensor};
use metagrad_nn::{Context, Params};
use rand::rngs::StdRng;

/// Deep generative replay with a VAE generator.
///
/// # Examples
///
/// ```
/// use metagrad_algos::continual::{GenerativeReplay, Mlp, Scenario, Strategy, TaskContext, Vae};
/// use metagrad_nn::Module;
/// use rand::{rngs::StdRng, SeedableRng};
/// # use metagrad_algos::continual::{Labelled, Task};
/// # use metagrad_autodiff::Tensor;
/// # // Tasks of four 2-d points in [0, 1]: class `a` near (1, 0), class `b` near (0, 1).
/// # let task = |a: usize, b: usize| {
/// #     let inputs = Tensor::from_vec(&[4, 2], vec![1.0, 0.0, 0.9, 0.1, 0.0, 1.0, 0.1, 0.9]);
/// #     let examples = Labelled::new(inputs, vec![a, a, b, b]);
/// #     Task::<f64> { name: format!("{a}/{b}"), train: examples.clone(), test: examples, classes: vec![a, b] }
/// # };
/// # let tasks = [task(0, 1), task(2, 3)];
///
/// let model = Mlp::new(&[2, 4]);
/// let mut rng = StdRng::seed_from_u64(0);
/// let params = Module::<f64>::init(&model, &mut rng);
/// let mut dgr = GenerativeReplay::new(Vae { inputs: 2, hidden: 3, latent: 1 }, 2);
/// dgr.generator_batch = 4;
/// let cx = |task| TaskContext { tasks: &tasks, task, scenario: Scenario::TaskIncremental };
/// dgr.end_task(&model, &params, &cx(0), &mut rng);
/// // While task 1 trains: generated inputs shaped like the task's, labelled within task 0's head.
/// let groups = dgr.replay(&model, 3, &cx(1), &mut rng);
/// assert_eq!(groups.len(), 1);
/// assert_eq!((groups[0].examples.inputs.shape(), groups[0].head.as_slice()), (&[3, 2][..], &[0, 1][..]));
/// assert!(groups[0].examples.labels.iter().all(|&l| l < 2));
/// ```
#[derive(Clone, Debug)]
pub struct GenerativeReplay<T: Float> {
    /// The generator's architecture.
    pub vae: Vae,
    /// Generator training steps per task.
    pub generator_iterations: usize,
    /// Generator batch size (per part: new inputs, replayed inputs).
    pub generator_batch: usize,
    /// The generator's Adam rate.
    pub generator_lr: f64,
    /// The generator's last training loss (negative ELBO per example).
    pub generator_loss: f64,
    /// The previous generator and solver.
    previous: Option<(Params<T>, Params<T>)>,
}

impl<T: Float> GenerativeReplay<T> {
    /// Generative replay with `vae`, trained `generator_iterations` steps per task (batch 128,
    /// Adam 1e-3).
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::continual::{GenerativeReplay, Vae};
    ///
    /// let dgr = GenerativeReplay::<f64>::new(Vae { inputs: 784, hidden: 400, latent: 20 }, 500);
    /// assert_eq!((dgr.generator_iterations, dgr.generator_batch, dgr.generator_lr), (500, 128, 1e-3));
    /// // No generator, hence no loss, before the first task ends.
    /// assert!(dgr.generator().is_none() && dgr.generator_loss.is_nan());
    /// ```
    pub fn new(vae: Vae, generator_iterations: usize) -> Self {
        GenerativeReplay {
            vae,
            generator_iterations,
            generator_batch: 128,
            generator_lr: 1e-3,
            generator_loss: f64::NAN,
            previous: None,
        }
    }

    /// The current generator's parameters (after the first task).
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::continual::{GenerativeReplay, Mlp, Scenario, Strategy, TaskContext, Vae};
    /// use metagrad_nn::Module;
    /// use rand::{rngs::StdRng, SeedableRng};
    /// # use metagrad_algos::continual::{Labelled, Task};
    /// # use metagrad_autodiff::Tensor;
    /// # // Tasks of four 2-d points in [0, 1]: class `a` near (1, 0), class `b` near (0, 1).
    /// # let task = |a: usize, b: usize| {
    /// #     let inputs = Tensor::from_vec(&[4, 2], vec![1.0, 0.0, 0.9, 0.1, 0.0, 1.0, 0.1, 0.9]);
    /// #     let examples = Labelled::new(inputs, vec![a, a, b, b]);
    /// #     Task::<f64> { name: format!("{a}/{b}"), train: examples.clone(), test: examples, classes: vec![a, b] }
    /// # };
    /// # let tasks = [task(0, 1), task(2, 3)];
    ///
    /// let model = Mlp::new(&[2, 4]);
    /// let mut rng = StdRng::seed_from_u64(0);
    /// let params = Module::<f64>::init(&model, &mut rng);
    /// let vae = Vae { inputs: 2, hidden: 3, latent: 1 };
    /// let mut dgr = GenerativeReplay::new(vae.clone(), 2);
    /// dgr.generator_batch = 4;
    /// dgr.end_task(&model, &params, &TaskContext { tasks: &tasks, task: 0, scenario: Scenario::TaskIncremental }, &mut rng);
    /// // A generator trained on task 0, laid out like the VAE's parameters.
    /// let generator = dgr.generator().unwrap();
    /// assert_eq!(generator.names().collect::<Vec<_>>(), vae.init::<f64>(&mut rng).names().collect::<Vec<_>>());
    /// assert!(dgr.generator_loss.is_finite());
    /// ```
    pub fn generator(&self) -> Option<&Params<T>> {
        self.previous.as_ref().map(|(g, _)| g)
    }
}

/// The most likely class of `head` for each row of `inputs` under `solver`.
fn label<T: Float>(model: &dyn Classifier<T>, solver: &Params<T>, inputs: &Tensor<T>, head: &[usize]) -> Vec<usize> {
    let tape = Tape::new();
    let logits = tape.no_grad(|| {
        let out = model.forward(&solver.on(&tape), tape.constant(inputs.clone()), &mut Context::eval(Params::new()));
        head_logits(out, head).value()
    });
    logits
        .to_vec()
        .chunks(head.len())
        .map(|row| {
            let best = (0..row.len()).fold(0, |b, k| if row[k] > row[b] { k } else { b });
            head[best]
        })
        .collect()
}

/// The input shape of `task`'s examples, with `count` rows.
fn shaped<T: Float>(task: &Task<T>, flat: Tensor<T>, count: usize) -> Tensor<T> {
    let mut shape = task.train.inputs.shape().to_vec();
    shape[0] = count;
    Tensor::from_vec(&shape, flat.to_vec())
}

impl<T: Float> Strategy<T> for GenerativeReplay<T> {
    fn name(&self) -> String {
        "generative-replay".into()
    }

    fn reset(&mut self) {
        (self.previous, self.generator_loss) = (None, f64::NAN);
    }

    fn replay(
        &mut self,
        model: &dyn Classifier<T>,
        size: usize,
        cx: &TaskContext<'_, T>,
        rng: &mut StdRng,
    ) -> Vec<ReplayGroup<T>> {
        let Some((generator, solver)) = &self.previous else { return Vec::new() };
        let inputs = shaped(&cx.tasks[cx.task], self.vae.sample(generator, size, rng), size);
        let group = |head: Vec<usize>, labelled_by: Vec<usize>| ReplayGroup {
            examples: Labelled::new(inputs.clone(), label(model, solver, &inputs, &labelled_by)),
            head,
        };
        match cx.scenario {
            Scenario::TaskIncremental => (0..cx.task).map(|j| group(cx.head(j), cx.head(j))).collect(),
            // The previous solver only knows the earlier tasks' classes.
            Scenario::ClassIncremental => {
                vec![group(cx.head(cx.task), cx.scenario.head(cx.tasks, cx.task - 1, cx.task))]
            }
            Scenario::DomainIncremental => vec![group(cx.head(cx.task), cx.head(cx.task))],
        }
    }

    fn end_task(&mut self, _: &dyn Classifier<T>, params: &Params<T>, cx: &TaskContext<'_, T>, rng: &mut StdRng) {
        let train = &cx.tasks[cx.task].train;
        let (batch, vae) = (self.generator_batch, self.vae.clone());
        let current_weight = 1.0 / (cx.task + 1) as f64;
        let old = self.previous.as_ref().map(|(g, _)| g.clone());
        let mut generator = match &old {
            Some(g) => g.clone(),
            None => vae.init(rng),
        };
        self.generator_loss = vae.train(&mut generator, self.generator_iterations, self.generator_lr, rng, |rng| {
            let mut parts = vec![(train.sample(batch, rng).inputs, current_weight)];
            if let Some(g) = &old {
                parts.push((vae.sample(g, batch, rng), 1.0 - current_weight));
            }
            parts
        });
        self.previous = Some((generator, params.clone()));
    }
}
