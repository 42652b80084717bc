//! The `metagrad` command as a user runs it: exact resume, outputs, and one-line errors.

use std::path::Path;
use std::process::{Command, Output};

fn metagrad(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_metagrad")).args(args).current_dir(dir).output().expect("the binary runs")
}

const SMALL: [&str; 10] =
    ["sinusoid", "--meta-batch", "4", "--hidden", "8", "--eval-every", "10", "--quiet", "--threads", "2"];

#[test]
fn resumed_run_ends_bit_identical_to_an_uninterrupted_one() {
    let dir = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        let args: Vec<&str> = SMALL.iter().copied().chain(extra.iter().copied()).collect();
        let out = metagrad(&args, dir.path());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        out
    };
    let whole = run(&["--iterations", "30", "--out", "whole"]);
    run(&["--iterations", "20", "--out", "parts"]);
    let resumed = run(&["--iterations", "30", "--out", "parts", "--resume"]);
    assert!(String::from_utf8_lossy(&resumed.stdout).contains("resuming"));
    let read = |run: &str, file: &str| std::fs::read(dir.path().join(run).join(file)).unwrap();
    // Parameters, Adam's moments and the iteration count: the same bytes.
    assert_eq!(read("whole", "checkpoint.safetensors"), read("parts", "checkpoint.safetensors"));
    let results = |run: &str| -> serde_json::Value { serde_json::from_slice(&read(run, "results.json")).unwrap() };
    let (a, b) = (results("whole"), results("parts"));
    assert_eq!(a["mse"], b["mse"]);
    let iterations = |v: &serde_json::Value| -> Vec<u64> {
        v["history"].as_array().unwrap().iter().map(|r| r["iteration"].as_u64().unwrap()).collect()
    };
    assert_eq!(iterations(&a), vec![10, 20, 30]);
    assert_eq!(iterations(&b), vec![10, 20, 30]);
    for png in ["learning_curve.png", "figure2.png"] {
        assert_eq!(&read("whole", png)[1..4], b"PNG", "{png} is a PNG");
    }
    assert!(String::from_utf8_lossy(&whole.stdout).contains("after 10 steps"));
}

#[test]
fn bad_arguments_give_one_line_errors_and_a_failure_status() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.json");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["sinusoid", "--shots", "0"], "--shots must be at least 1"),
        (vec!["sinusoid", "--method", "maml", "--inner-steps", "0"], "nothing to adapt"),
        (vec!["sinusoid", "--inner-lr", "nan"], "finite"),
        (vec!["sinusoid", "--test-tasks", missing.to_str().unwrap()], "cannot read"),
        (vec!["sinusoid", "--resume", "--out", "nowhere"], "no checkpoint"),
        (vec!["sinusoid", "--method", "reptile", "--checkpoint-inner-loop"], "second-order"),
        (vec!["fewshot", "--method", "protonet", "--data", "no/such/dir"], "not a directory"),
        (
            vec!["fewshot", "--method", "maml", "--data", ".", "--ways", "1"],
            "--ways and --train-ways must be at least 2",
        ),
        (vec!["fewshot", "--method", "maml", "--data", ".", "--train-ways", "20"], "must equal --ways"),
        (vec!["fewshot", "--method", "protonet", "--data", ".", "--minutes", "0"], "--minutes must be positive"),
        (vec!["fewshot", "--method", "protonet", "--data", "."], "no images_background/"),
        (
            vec!["continual", "--benchmark", "split-mnist", "--scenario", "domain", "--method", "naive", "--data", "."],
            "task- or class-incremental",
        ),
        (vec!["continual", "--benchmark", "permuted-mnist", "--method", "ewc", "--data", ".", "--lr", "0"], "--lr"),
        (vec!["continual", "--benchmark", "permuted-mnist", "--method", "si", "--data", "."], "cannot load MNIST"),
        (
            vec!["continual", "--benchmark", "permuted-mnist", "--scenario", "class", "--method", "ewc", "--data", "."],
            "domain-incremental",
        ),
        (
            vec!["continual", "--benchmark", "split-mnist", "--method", "ewc", "--data", ".", "--train-per-task", "0"],
            "positive",
        ),
        (vec!["federated", "--data", ".", "--fraction", "0"], "--fraction"),
        (vec!["federated", "--data", ".", "--clients", "70000"], "at most 60,000"),
        (
            vec!["federated", "--data", ".", "--algorithm", "consensus", "--topology", "torus", "--clients", "10"],
            "square",
        ),
        (vec!["federated", "--data", "."], "cannot load MNIST"),
    ];
    for (args, expected) in cases {
        let out = metagrad(&args, dir.path());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(stderr.starts_with("error: ") && stderr.contains(expected), "{args:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
    // Test tasks that are not the expected JSON.
    std::fs::write(dir.path().join("bad.json"), "{\"amp\": [1.0]}").unwrap();
    let out = metagrad(&["sinusoid", "--test-tasks", "bad.json"], dir.path());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a sinusoid task file"));
    // A resumed run whose checkpoint belongs to another model says so.
    let args: Vec<&str> = SMALL.iter().copied().chain(["--iterations", "10", "--out", "small"]).collect();
    assert!(metagrad(&args, dir.path()).status.success());
    let out = metagrad(&["sinusoid", "--resume", "--out", "small", "--iterations", "20"], dir.path());
    assert!(String::from_utf8_lossy(&out.stderr).contains("has shape"), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Omniglot for the few-shot command, or `None` (the test returns) when it is absent and not
/// required.
fn omniglot() -> Option<std::path::PathBuf> {
    metagrad_data::location::dataset_for_test("omniglot").map(|p| std::fs::canonicalize(p).unwrap())
}

#[test]
fn fewshot_resumes_exactly_and_evaluates_its_checkpoint() {
    let Some(data) = omniglot() else { return };
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("omniglot.bin");
    let run = |extra: &[&str]| {
        let mut args = vec!["fewshot", "--method", "protonet", "--data", data.to_str().unwrap()];
        args.extend(["--cache", cache.to_str().unwrap(), "--queries", "2", "--meta-batch", "1", "--quiet"]);
        args.extend(["--eval-every", "2", "--eval-episodes", "4", "--final-episodes", "4"]);
        args.extend(extra);
        let out = metagrad(&args, dir.path());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    run(&["--iterations", "4", "--out", "whole"]);
    run(&["--iterations", "2", "--out", "parts"]);
    assert!(run(&["--iterations", "4", "--out", "parts", "--resume"]).contains("resuming"));
    let read = |run: &str, file: &str| std::fs::read(dir.path().join(run).join(file)).unwrap();
    assert_eq!(read("whole", "checkpoint.safetensors"), read("parts", "checkpoint.safetensors"));
    let results = |run: &str| -> serde_json::Value { serde_json::from_slice(&read(run, "results.json")).unwrap() };
    let (a, b) = (results("whole"), results("parts"));
    assert_eq!(a["accuracy"], b["accuracy"]);
    assert_eq!(a["history"].as_array().unwrap().len(), 2);
    for png in ["accuracy.png", "loss.png"] {
        assert_eq!(&read("whole", png)[1..4], b"PNG", "{png} is a PNG");
    }
    // Evaluating the checkpoint on the same episodes gives the accuracy the run reported.
    let checkpoint = dir.path().join("whole").join("checkpoint.safetensors");
    let eval = run(&["--eval", "--checkpoint", checkpoint.to_str().unwrap()]);
    let percent = format!("{:.2}%", 100.0 * a["accuracy"].as_f64().unwrap());
    assert!(eval.contains(&percent) && eval.contains("iteration 4"), "{eval} should report {percent}");
    // A checkpoint of another method is refused with the reason.
    let mut args = vec!["fewshot", "--method", "maml", "--data", data.to_str().unwrap(), "--eval"];
    args.extend(["--cache", cache.to_str().unwrap(), "--checkpoint", checkpoint.to_str().unwrap()]);
    let out = metagrad(&args, dir.path());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no parameter"), "{}", String::from_utf8_lossy(&out.stderr));
}

/// A short continual-learning run writes the accuracy matrix, its metrics and both plots.
#[test]
fn continual_run_writes_its_accuracy_matrix_and_plots() {
    let Some(data) = metagrad_data::location::dataset_for_test("mnist") else { return };
    let data = std::fs::canonicalize(data).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "continual",
        "--benchmark",
        "split-mnist",
        "--scenario",
        "task",
        "--method",
        "replay",
        "--buffer",
        "50",
        "--iterations",
        "30",
        "--train-per-task",
        "300",
        "--hidden",
        "32",
        "--eval-every",
        "10",
        "--quiet",
        "--out",
        "cl",
        "--data",
        data.to_str().unwrap(),
    ];
    let out = metagrad(&args, dir.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("cl/results.json")).unwrap()).unwrap();
    let matrix = results["accuracy_matrix"].as_array().unwrap();
    assert_eq!(matrix.len(), 5);
    assert!(matrix.iter().all(|row| row.as_array().unwrap().len() == 5));
    // Even 30 steps learn a two-digit task well above chance.
    assert!(matrix[0][0].as_f64().unwrap() > 0.8, "{}", matrix[0][0]);
    assert!(results["average_accuracy"].as_f64().unwrap() > 0.5);
    assert_eq!(results["curves"].as_array().unwrap().len(), 1 + 5 * 3);
    for png in ["accuracy_matrix.png", "accuracy.png"] {
        assert!(std::fs::metadata(dir.path().join("cl").join(png)).unwrap().len() > 1000, "{png}");
    }
}

/// A short federated run reports every round's accuracy and the bytes carried.
#[test]
fn federated_run_writes_its_curve() {
    let Some(data) = metagrad_data::location::dataset_for_test("mnist") else { return };
    let data = std::fs::canonicalize(data).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "federated",
        "--clients",
        "20",
        "--fraction",
        "0.2",
        "--rounds",
        "3",
        "--quiet",
        "--out",
        "fl",
        "--data",
        data.to_str().unwrap(),
    ];
    let out = metagrad(&args, dir.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("fl/results.json")).unwrap()).unwrap();
    let curve = results["curve"].as_array().unwrap();
    assert_eq!(curve.len(), 3);
    // 4 clients a round, 199,210 f32 weights each way.
    let megabytes = 3.0 * 4.0 * 2.0 * 199_210.0 * 4.0 / 1e6;
    assert!((curve[2]["megabytes"].as_f64().unwrap() - megabytes).abs() < 1e-6);
    // Three rounds of one local epoch already learn (chance is 10%).
    assert!(results["final_accuracy"].as_f64().unwrap() > 0.8, "{}", results["final_accuracy"]);
}
