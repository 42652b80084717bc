//! Learning without forgetting (Li & Hoiem 2017).
//!
//! No old data is kept. Before task `t` the model is copied; while task `t` trains, the copy's
//! answers on the *new* inputs, over the old heads, are the targets of a distillation term
//! (Hinton et al. 2015) with temperature `tau`:
//!
//! ```text
//! L = L_t + lambda tau^2 mean_heads mean_x CE( softmax(z_old(x)/tau), softmax(z(x)/tau) ),
//! ```
//!
//! the heads being each earlier task's (task-incremental), the classes of the earlier tasks
//! (class-incremental), or all classes (domain-incremental). `tau^2` keeps the gradient's scale
//! independent of `tau`.

use super::{head_logits, Classifier, Scenario, Strategy, TaskContext};
use metagrad_autodiff::{Float, Tape, Var};
use metagrad_nn::loss::{cross_entropy, Reduction, Targets};
use metagrad_nn::{Context, ParamVars, Params};

/// LwF with strength `lambda` and temperature `tau`.
///
/// # Examples
///
/// ```
/// use metagrad_algos::continual::{Lwf, Mlp, Scenario, Strategy, TaskContext};
/// use metagrad_autodiff::Tape;
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
/// let zero = Module::<f64>::init(&model, &mut StdRng::seed_from_u64(0)).map(|t| Tensor::zeros(t.shape()));
/// let cx = TaskContext { tasks: &tasks, task: 1, scenario: Scenario::TaskIncremental };
/// let mut lwf = Lwf::new(3.0);
/// lwf.begin_task(&model, &zero, &cx);
/// let tape = Tape::new();
/// let x = tape.constant(tasks[1].train.inputs.clone());
/// let d = lwf.penalty(&model, &zero.on(&tape), x, &cx).unwrap().item();
/// // Zero logits: old and new softmax are both uniform over task 0's head, so the
/// // cross-entropy is ln 2 and the term lambda tau^2 ln 2.
/// assert!((d - 3.0 * 4.0 * 2f64.ln()).abs() < 1e-12);
/// ```
#[derive(Clone, Debug)]
pub struct Lwf<T: Float> {
    /// The distillation term's weight.
    pub lambda: f64,
    /// The softmax temperature.
    pub tau: f64,
    previous: Option<Params<T>>,
}

impl<T: Float> Lwf<T> {
    /// LwF with weight `lambda` and temperature 2 (as in the paper).
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::continual::{Lwf, Strategy};
    ///
    /// let lwf = Lwf::<f64>::new(0.5);
    /// assert_eq!((lwf.lambda, lwf.tau), (0.5, 2.0));
    /// assert_eq!(lwf.name(), "lwf");
    /// ```
    pub fn new(lambda: f64) -> Self {
        Lwf { lambda, tau: 2.0, previous: None }
    }
}

/// The heads whose old answers are kept while task `cx.task` trains.
fn old_heads<T: Float>(cx: &TaskContext<'_, T>) -> Vec<Vec<usize>> {
    match cx.scenario {
        Scenario::TaskIncremental => (0..cx.task).map(|j| cx.head(j)).collect(),
        Scenario::ClassIncremental => vec![cx.scenario.head(cx.tasks, cx.task - 1, cx.task)],
        Scenario::DomainIncremental => vec![cx.head(cx.task)],
    }
}

impl<T: Float> Strategy<T> for Lwf<T> {
    fn name(&self) -> String {
        "lwf".into()
    }

    fn reset(&mut self) {
        self.previous = None;
    }

    fn begin_task(&mut self, _: &dyn Classifier<T>, params: &Params<T>, cx: &TaskContext<'_, T>) {
        self.previous = (cx.task > 0).then(|| params.clone());
    }

    fn penalty<'t>(
        &self,
        model: &dyn Classifier<T>,
        params: &ParamVars<'t, T>,
        inputs: Var<'t, T>,
        cx: &TaskContext<'_, T>,
    ) -> Option<Var<'t, T>> {
        let previous = self.previous.as_ref()?;
        let old_outputs = {
            let tape = Tape::new();
            tape.no_grad(|| {
                model
                    .forward(&previous.on(&tape), tape.constant(inputs.value()), &mut Context::eval(Params::new()))
                    .value()
            })
        };
        let outputs = model.forward(params, inputs, &mut Context::eval(Params::new()));
        let tau = T::of(self.tau);
        let heads = old_heads(cx);
        let count = heads.len() as f64;
        heads
            .iter()
            .map(|head| {
                let targets = head_logits(inputs.constant(old_outputs.clone()), head) / tau;
                let soft = inputs.constant(targets.softmax(1).value());
                cross_entropy(head_logits(outputs, head) / tau, Targets::Soft(soft), 0.0, Reduction::Mean)
            })
            .reduce(|a, b| a + b)
            .map(|d| d * T::of(self.lambda * self.tau * self.tau / count))
    }
}
