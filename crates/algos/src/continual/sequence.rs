//! The one training loop every strategy runs in, and evaluation.
//!
//! For each task `t` in turn: `iterations` steps of Adam (reset at each task) on minibatches of
//! the task's training set, the loss being
//!
//! ```text
//! L = (1/(t+1)) L_current + (1 - 1/(t+1)) mean_groups L_replayed + penalty
//! ```
//!
//! (the replayed part only when the strategy replays; `t` counts from 0). After each task the
//! model is tested on every task of the sequence, which fills one row of the accuracy matrix.

use super::head::{head_logits, head_loss, head_positions};
use super::{AccuracyMatrix, Classifier, Scenario, Strategy, Task, TaskContext};
use metagrad_autodiff::{Float, Tape};
use metagrad_nn::loss::accuracy;
use metagrad_nn::optim::{Adam, Optimizer};
use metagrad_nn::{Context, Params};
use rand::rngs::StdRng;
use rand::SeedableRng;

/// Settings of [`train_sequence`].
///
/// # Examples
///
/// ```
/// use metagrad_algos::continual::{train_sequence, Config, Mlp, Naive, Scenario};
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
/// let params = Module::<f64>::init(&model, &mut StdRng::seed_from_u64(0));
/// let config = Config { iterations: 4, batch_size: 2, lr: 0.01, seed: 0, eval_every: 2 };
/// let run = train_sequence(&model, params, &mut Naive, &tasks, Scenario::TaskIncremental, &config, &mut |_| {});
/// // Curves: the start, then steps 2 and 4 of each task (4 also being the task's end).
/// let steps: Vec<usize> = run.curves.iter().map(|(s, _)| *s).collect();
/// assert_eq!(steps, vec![0, 2, 4, 6, 8]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Optimiser steps per task.
    pub iterations: usize,
    /// Examples of the current task per step (replayed examples come on top).
    pub batch_size: usize,
    /// Adam's learning rate.
    pub lr: f64,
    /// Seed of the minibatches and of every strategy's randomness.
    pub seed: u64,
    /// Test every task every this many steps as well as at each task's end (0: only at the end).
    pub eval_every: usize,
}

/// What [`train_sequence`] reports after each step.
///
/// # Examples
///
/// ```
/// use metagrad_algos::continual::{train_sequence, Config, Mlp, Naive, Scenario};
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
/// let params = Module::<f64>::init(&model, &mut StdRng::seed_from_u64(0));
/// let config = Config { iterations: 3, batch_size: 2, lr: 0.01, seed: 0, eval_every: 2 };
/// let mut heard = Vec::new();
/// train_sequence(&model, params, &mut Naive, &tasks, Scenario::TaskIncremental, &config, &mut |p| {
///     heard.push((p.task, p.iteration, p.accuracies.map(|a| a.len())));
/// });
/// // Every step is reported; step 2 of each task also carries both tasks' accuracies.
/// assert_eq!(heard, vec![(0, 1, None), (0, 2, Some(2)), (0, 3, None), (1, 1, None), (1, 2, Some(2)), (1, 3, None)]);
/// ```
#[derive(Clone, Debug)]
pub struct Progress<'a> {
    /// The current task.
    pub task: usize,
    /// Steps done on it.
    pub iteration: usize,
    /// The step's loss (penalties and replay included).
    pub loss: f64,
    /// Test accuracy on every task, when this step was evaluated.
    pub accuracies: Option<&'a [f64]>,
}

/// The outcome of [`train_sequence`].
///
/// # Examples
///
/// ```
/// use metagrad_algos::continual::{train_sequence, Config, Mlp, Naive, Scenario};
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
/// let params = Module::<f64>::init(&model, &mut StdRng::seed_from_u64(0));
/// let config = Config { iterations: 2, batch_size: 4, lr: 0.01, seed: 0, eval_every: 0 };
/// let run = train_sequence(&model, params.clone(), &mut Naive, &tasks, Scenario::TaskIncremental, &config, &mut |_| {});
/// // A row per task, the baseline, and trained parameters laid out like the initial ones.
/// assert_eq!((run.matrix.rows.len(), run.matrix.baseline.len()), (2, 2));
/// assert_eq!(run.params.names().collect::<Vec<_>>(), params.names().collect::<Vec<_>>());
/// assert_ne!(run.params, params);
/// ```
#[derive(Clone, Debug)]
pub struct Run<T: Float> {
    /// `R[i][j]` and the untrained model's accuracies.
    pub matrix: AccuracyMatrix,
    /// `(steps done over the whole sequence, accuracy on every task)` at each evaluation.
    pub curves: Vec<(usize, Vec<f64>)>,
    /// The parameters at the end.
    pub params: Params<T>,
    /// Wall time of training and evaluation.
    pub seconds: f64,
}

/// Test accuracy on every task of `tasks`, each under its head after `seen` trained tasks.
///
/// # Examples
///
/// ```
/// use metagrad_algos::continual::{evaluate, Mlp, Scenario};
/// use metagrad_nn::Params;
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
/// // A hand-made linear model: logit k is x_0 for even classes and x_1 for odd ones, so it
/// // calls (1, 0)-like points even and (0, 1)-like points odd.
/// let weights = Tensor::from_vec(&[2, 4], vec![1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0]);
/// let params = Params::from_pairs([("0.weight".to_string(), weights), ("0.bias".to_string(), Tensor::zeros(&[4]))]);
/// let model = Mlp::new(&[2, 4]);
/// // Each task alone: always right. All four classes: even and odd classes tie, and a tie
/// // picks the first, so only class 0 (of task 0) and class 1 are right.
/// assert_eq!(evaluate(&model, &params, &Params::new(), &tasks, Scenario::TaskIncremental, 2), vec![1.0, 1.0]);
/// assert_eq!(evaluate(&model, &params, &Params::new(), &tasks, Scenario::ClassIncremental, 2), vec![1.0, 0.0]);
/// ```
pub fn evaluate<T: Float>(
    model: &dyn Classifier<T>,
    params: &Params<T>,
    state: &Params<T>,
    tasks: &[Task<T>],
    scenario: Scenario,
    seen: usize,
) -> Vec<f64> {
    const CHUNK: usize = 1000;
    tasks
        .iter()
        .enumerate()
        .map(|(j, task)| {
            let head = scenario.head(tasks, j, seen);
            let test = &task.test;
            let mut correct = 0.0;
            for start in (0..test.len()).step_by(CHUNK) {
                let indices: Vec<usize> = (start..(start + CHUNK).min(test.len())).collect();
                let chunk = test.select(&indices);
                let tape = Tape::new();
                let logits = tape.no_grad(|| {
                    let out = model.forward(
                        &params.on(&tape),
                        tape.constant(chunk.inputs),
                        &mut Context::eval(state.clone()),
                    );
                    head_logits(out, &head).value()
                });
                correct += accuracy(&logits, &head_positions(&chunk.labels, &head)) * indices.len() as f64;
            }
            correct / test.len().max(1) as f64
        })
        .collect()
}

/// Trains `params` on `tasks` in order with `strategy` (see the module docs) and tests after
/// every task. `progress` hears about every step. The strategy is [reset](Strategy::reset)
/// first, so nothing from an earlier run carries over.
///
/// # Panics
/// If `tasks` is empty, or a task has no training examples.
///
/// # Examples
///
/// ```
/// use metagrad_algos::continual::{train_sequence, Config, Mlp, Naive, Scenario};
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
/// let params = Module::<f64>::init(&model, &mut StdRng::seed_from_u64(0));
/// let config = Config { iterations: 30, batch_size: 4, lr: 0.1, seed: 0, eval_every: 0 };
/// let run = train_sequence(&model, params, &mut Naive, &tasks, Scenario::TaskIncremental, &config, &mut |_| {});
/// // Each easy task is learnt while it trains: the diagonal of R is perfect.
/// assert_eq!((run.matrix.rows[0][0], run.matrix.rows[1][1]), (1.0, 1.0));
/// ```
pub fn train_sequence<T: Float>(
    model: &dyn Classifier<T>,
    mut params: Params<T>,
    strategy: &mut dyn Strategy<T>,
    tasks: &[Task<T>],
    scenario: Scenario,
    config: &Config,
    progress: &mut dyn FnMut(&Progress<'_>),
) -> Run<T> {
    assert!(!tasks.is_empty(), "train_sequence: no tasks");
    let started = std::time::Instant::now();
    let mut rng = StdRng::seed_from_u64(config.seed);
    strategy.reset();
    let mut state = model.init_state();
    let baseline = evaluate(model, &params, &state, tasks, scenario, 0);
    let mut rows = Vec::with_capacity(tasks.len());
    let mut curves = vec![(0, baseline.clone())];
    for t in 0..tasks.len() {
        assert!(!tasks[t].train.is_empty(), "train_sequence: task {} has no training examples", tasks[t].name);
        let cx = TaskContext { tasks, task: t, scenario };
        strategy.begin_task(model, &params, &cx);
        let head = strategy.current_head(&cx);
        let current_weight = 1.0 / (t + 1) as f64;
        let mut optimizer = Adam::new(config.lr);
        for iteration in 1..=config.iterations {
            let batch = tasks[t].train.sample(config.batch_size, &mut rng);
            let replayed = strategy.replay(model, config.batch_size, &cx, &mut rng);
            let tape = Tape::new();
            let p = params.on(&tape);
            let mut ctx = Context::train(state, config.seed ^ ((iteration as u64) << 8) ^ t as u64);
            let x = tape.constant(batch.inputs);
            let mut loss = head_loss(model.forward(&p, x, &mut ctx), &batch.labels, &head);
            if !replayed.is_empty() {
                let groups = replayed.len() as f64;
                let replay_loss = replayed
                    .into_iter()
                    .map(|g| {
                        head_loss(
                            model.forward(&p, tape.constant(g.examples.inputs), &mut ctx),
                            &g.examples.labels,
                            &g.head,
                        )
                    })
                    .reduce(|a, b| a + b)
                    .expect("at least one group");
                loss = loss * T::of(current_weight) + replay_loss * T::of((1.0 - current_weight) / groups);
            }
            if let Some(penalty) = strategy.penalty(model, &p, x, &cx) {
                loss = loss + penalty;
            }
            state = ctx.state;
            let grads = p.grad(loss);
            let before = params.clone();
            optimizer.step(&mut params, &grads);
            strategy.after_step(&before, &params, &grads);
            let evaluated =
                (config.eval_every > 0 && iteration % config.eval_every == 0 && iteration < config.iterations)
                    .then(|| evaluate(model, &params, &state, tasks, scenario, t + 1));
            if let Some(acc) = &evaluated {
                curves.push((t * config.iterations + iteration, acc.clone()));
            }
            let loss = loss.item().to_f64().unwrap_or(f64::NAN);
            progress(&Progress { task: t, iteration, loss, accuracies: evaluated.as_deref() });
        }
        strategy.end_task(model, &params, &cx, &mut rng);
        let row = evaluate(model, &params, &state, tasks, scenario, t + 1);
        curves.push(((t + 1) * config.iterations, row.clone()));
        rows.push(row);
    }
    Run { matrix: AccuracyMatrix { rows, baseline }, curves, params, seconds: started.elapsed().as_secs_f64() }
}
