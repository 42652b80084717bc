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
/// every task. `progress` hears about every step.
///
/// # Panics
/// If `tasks` is empty, or a task has no training examples.
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
