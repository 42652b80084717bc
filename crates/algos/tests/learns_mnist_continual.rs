//! The continual-learning benchmarks at reduced scale, on real MNIST (from ../shared/data):
//! the qualitative results of the literature must hold. Release build; CI runs it:
//! `cargo test --release -p metagrad-algos --test learns_mnist_continual -- --ignored --nocapture`

use metagrad_algos::continual::{
    benchmarks, train_sequence, AccuracyMatrix, Config, Ewc, ExperienceReplay, Mlp, Naive, Scenario, Si, Strategy, Task,
};
use metagrad_data::location::dataset_for_test;
use metagrad_data::mnist::Mnist;
use metagrad_nn::Module;
use rand::rngs::StdRng;
use rand::SeedableRng;

fn run(strategy: &mut dyn Strategy<f32>, tasks: &[Task<f32>], scenario: Scenario, iterations: usize) -> AccuracyMatrix {
    let model = Mlp::new(&[784, 200, 200, 10]);
    let params = model.init(&mut StdRng::seed_from_u64(0));
    let config = Config { iterations, batch_size: 128, lr: 1e-3, seed: 0, eval_every: 0 };
    let run = train_sequence(&model, params, strategy, tasks, scenario, &config, &mut |_| {});
    let m = run.matrix;
    println!(
        "{:8} {scenario:?}: average {:.2}%, forgetting {:.2} ({:.0} s)",
        strategy.name(),
        100.0 * m.average_accuracy(),
        100.0 * m.forgetting(),
        run.seconds
    );
    m
}

/// Class-incremental split MNIST: naive training keeps only the last task (about 20%), a
/// replay buffer of 500 examples keeps most of all five, replayed plainly or asymmetrically.
#[test]
#[ignore = "release build; CI runs it"]
fn split_mnist_class_incremental_replay_remembers_and_naive_forgets() {
    let Some(dir) = dataset_for_test("mnist") else { return };
    let tasks = benchmarks::split_mnist::<f32>(&Mnist::load(&dir).expect("MNIST loads"), None);
    let naive = run(&mut Naive, &tasks, Scenario::ClassIncremental, 300);
    assert!(naive.average_accuracy() < 0.25, "naive keeps {}", naive.average_accuracy());
    assert!(naive.rows[4][4] > 0.95, "naive learns the last task");
    let replay = run(&mut ExperienceReplay::new(500), &tasks, Scenario::ClassIncremental, 300);
    assert!(replay.average_accuracy() > 0.75, "replay keeps {}", replay.average_accuracy());
    let ace = run(&mut ExperienceReplay::asymmetric(500), &tasks, Scenario::ClassIncremental, 300);
    assert!(ace.average_accuracy() > 0.75, "asymmetric replay keeps {}", ace.average_accuracy());
}

/// Permuted MNIST (three tasks): EWC and SI forget less than naive training and end higher.
#[test]
#[ignore = "release build; CI runs it"]
fn permuted_mnist_ewc_and_si_forget_less_than_naive() {
    let Some(dir) = dataset_for_test("mnist") else { return };
    let tasks = benchmarks::permuted_mnist::<f32>(&Mnist::load(&dir).expect("MNIST loads"), 3, 0, Some(20_000));
    let naive = run(&mut Naive, &tasks, Scenario::DomainIncremental, 600);
    for mut method in [Box::new(Ewc::<f32>::new(1e3)) as Box<dyn Strategy<f32>>, Box::new(Si::<f32>::new(1.0))] {
        let m = run(method.as_mut(), &tasks, Scenario::DomainIncremental, 600);
        assert!(
            m.forgetting() < naive.forgetting() - 0.01 && m.average_accuracy() > naive.average_accuracy(),
            "{}: average {} forgetting {}; naive {} and {}",
            method.name(),
            m.average_accuracy(),
            m.forgetting(),
            naive.average_accuracy(),
            naive.forgetting()
        );
    }
}
