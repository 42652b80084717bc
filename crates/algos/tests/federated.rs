//! Federated learning: FedAvg's limits against plain gradient descent, exact weighted
//! averaging, dropped and faulty clients, robust aggregation, consensus on graphs, learning,
//! and bit-identical results at any thread count.

use metagrad_algos::federated::{
    aggregate, aggregate_against, consensus_distance, Aggregation, Client, Consensus, Fault, Server, ServerOptimizer,
    Simulated, Topology, Transport, Update,
};
use metagrad_algos::Labelled;
use metagrad_autodiff::{Tape, Tensor};
use metagrad_nn::layers::{Activation, Linear};
use metagrad_nn::loss::{accuracy, cross_entropy, Reduction, Targets};
use metagrad_nn::{Context, Module, Params, Sequential};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn net() -> Sequential<f64> {
    Sequential::default().push(Linear::new(4, 16)).push(Activation::Tanh).push(Linear::new(16, 3))
}

/// Three Gaussian blobs in 4-d, `n` examples.
fn blobs(n: usize, rng: &mut StdRng) -> Labelled<f64> {
    let centres = [[2.0, 0.0, 0.0, 1.0], [0.0, 2.0, -1.0, 0.0], [-2.0, -1.0, 1.0, 0.0]];
    let labels: Vec<usize> = (0..n).map(|_| rng.gen_range(0..3)).collect();
    let values = labels
        .iter()
        .flat_map(|&c| centres[c].iter().map(|&m| m + rng.gen::<f64>() - 0.5).collect::<Vec<_>>())
        .collect();
    Labelled::new(Tensor::from_vec(&[n, 4], values), labels)
}

fn full_gradient(model: &dyn Module<f64>, params: &Params<f64>, data: &Labelled<f64>) -> Params<f64> {
    let tape = Tape::new();
    let p = params.on(&tape);
    let logits = model.forward(&p, tape.constant(data.inputs.clone()), &mut Context::eval(Params::new()));
    p.grad(cross_entropy(logits, Targets::Classes(&data.labels), 0.0, Reduction::Mean))
}

fn test_accuracy(model: &dyn Module<f64>, params: &Params<f64>, data: &Labelled<f64>) -> f64 {
    let tape = Tape::new();
    let logits =
        model.forward(&params.on(&tape), tape.constant(data.inputs.clone()), &mut Context::eval(Params::new()));
    accuracy(&logits.value(), &data.labels)
}

/// One client, one epoch, the whole local set as the batch: FedAvg is gradient descent.
#[test]
fn fedavg_with_one_client_one_epoch_full_batch_is_gradient_descent() {
    let model = net();
    let mut rng = StdRng::seed_from_u64(1);
    let data = blobs(50, &mut rng);
    let start = model.init(&mut rng);
    let mut transport = Simulated::new(&model, vec![Client { data: data.clone() }], 3);
    let mut server = Server::fedavg(1, None, 0.3, 1.0);
    let mut weights = start.clone();
    let mut descent = start;
    for round in 0..3 {
        server.round(round, &mut weights, &mut transport);
        descent = descent.axpy(-0.3, &full_gradient(&model, &descent, &data));
    }
    for ((name, a), (_, b)) in weights.iter().zip(descent.iter()) {
        assert!(a.max_abs_diff(b) < 1e-12, "{name}: FedAvg and gradient descent differ");
    }
}

/// FedSGD's step is the examples-weighted mean of the clients' gradients, which is the
/// gradient over the union of their data.
#[test]
fn fedsgd_steps_along_the_gradient_of_the_union() {
    let model = net();
    let mut rng = StdRng::seed_from_u64(2);
    let parts: Vec<Labelled<f64>> = [5, 20, 35].iter().map(|&n| blobs(n, &mut rng)).collect();
    let union = parts[1..].iter().fold(parts[0].clone(), |a, b| a.concat(b));
    let start = model.init(&mut rng);
    let mut transport = Simulated::new(&model, parts.into_iter().map(|data| Client { data }).collect(), 0);
    let mut weights = start.clone();
    Server::fedsgd(0.5, 1.0).round(0, &mut weights, &mut transport);
    let expected = start.axpy(-0.5, &full_gradient(&model, &start, &union));
    for ((name, a), (_, b)) in weights.iter().zip(expected.iter()) {
        assert!(a.max_abs_diff(b) < 1e-12, "{name}");
    }
}

fn update(client: usize, examples: usize, values: Vec<f64>) -> Update<f64> {
    let n = values.len();
    Update { client, examples, payload: Params::from_pairs([("w".to_string(), Tensor::from_vec(&[n], values))]) }
}

#[test]
fn weighted_mean_is_exact_and_robust_rules_ignore_an_outlier() {
    let updates = vec![update(0, 1, vec![1.0, 0.0]), update(1, 2, vec![4.0, 3.0]), update(2, 3, vec![1.0, 6.0])];
    let (mean, rejected) = aggregate(&updates, Aggregation::WeightedMean);
    assert!(rejected.is_empty());
    // (1*1 + 2*4 + 3*1) / 6 = 2, (0 + 6 + 18) / 6 = 4.
    assert_eq!(mean.unwrap().get("w").unwrap().to_vec(), vec![2.0, 4.0]);
    let mut with_outlier = updates.clone();
    with_outlier.push(update(3, 1, vec![1e9, -1e9]));
    with_outlier.push(update(4, 1, vec![2.0, 4.0]));
    let (median, _) = aggregate(&with_outlier, Aggregation::Median);
    assert_eq!(median.unwrap().get("w").unwrap().to_vec(), vec![2.0, 3.0]);
    let (trimmed, _) = aggregate(&with_outlier, Aggregation::TrimmedMean(0.2));
    // Coordinate 0: sorted 1, 1, 2, 4, 1e9 -> drop one each end -> (1 + 2 + 4) / 3.
    let t = trimmed.unwrap().get("w").unwrap().to_vec();
    assert!((t[0] - 7.0 / 3.0).abs() < 1e-12 && (t[1] - 7.0 / 3.0).abs() < 1e-12, "{t:?}");
}

#[test]
fn updates_of_another_layout_are_rejected_not_a_crash() {
    let updates = vec![update(0, 1, vec![1.0, 2.0]), update(1, 1, vec![1.0, 2.0, 3.0]), update(2, 1, vec![3.0, 4.0])];
    for how in [Aggregation::WeightedMean, Aggregation::Median, Aggregation::TrimmedMean(0.1)] {
        let (combined, rejected) = aggregate(&updates, how);
        assert_eq!(combined.unwrap().get("w").unwrap().to_vec(), vec![2.0, 3.0], "{how:?}");
        assert_eq!(rejected.len(), 1);
        assert_eq!(rejected[0].client, 1);
    }
}

/// Checked against the model, a wrong-layout reply that comes first (the honest one before it
/// being NaN) cannot make the honest replies after it look wrong.
#[test]
fn against_the_model_a_wrong_layout_first_does_not_reject_the_honest() {
    let model = Params::from_pairs([("w".to_string(), Tensor::zeros(&[2]))]);
    let updates = vec![
        update(0, 1, vec![f64::NAN, 0.0]),
        update(1, 1, vec![1.0, 2.0, 3.0]),
        update(2, 1, vec![1.0, 2.0]),
        update(3, 1, vec![3.0, 4.0]),
    ];
    for how in [Aggregation::WeightedMean, Aggregation::Median, Aggregation::TrimmedMean(0.1)] {
        let (combined, rejected) = aggregate_against(&model, &updates, how);
        assert_eq!(combined.unwrap().get("w").unwrap().to_vec(), vec![2.0, 3.0], "{how:?}");
        assert_eq!(rejected.iter().map(|r| r.client).collect::<Vec<_>>(), vec![0, 1], "{how:?}");
        assert!(rejected[1].reason.contains("the model's"), "{}", rejected[1].reason);
    }
    // Without the model, the first accepted update sets the layout: here the odd one.
    let (_, rejected) = aggregate(&updates, Aggregation::WeightedMean);
    assert_eq!(rejected.iter().map(|r| r.client).collect::<Vec<_>>(), vec![0, 2, 3]);
}

#[test]
fn non_finite_updates_are_rejected_with_a_reason_never_averaged() {
    let updates = vec![update(0, 1, vec![1.0]), update(1, 100, vec![f64::NAN]), update(2, 1, vec![3.0])];
    let (mean, rejected) = aggregate(&updates, Aggregation::WeightedMean);
    assert_eq!(mean.unwrap().get("w").unwrap().to_vec(), vec![2.0]);
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].client, 1);
    assert!(rejected[0].reason.contains("not finite"), "{}", rejected[0].reason);
    let (none, rejected) = aggregate(&[update(0, 1, vec![f64::INFINITY])], Aggregation::Median);
    assert!(none.is_none() && rejected.len() == 1);
}

fn iid_clients(count: usize, per_client: usize, rng: &mut StdRng) -> Vec<Client<f64>> {
    (0..count).map(|_| Client { data: blobs(per_client, rng) }).collect()
}

/// Clients that drop out leave the round to the rest; a NaN client is rejected and the model
/// still learns; with every client gone the weights stay put.
#[test]
fn dropped_and_faulty_clients_do_not_stop_learning() {
    let model = net();
    let mut rng = StdRng::seed_from_u64(4);
    let test = blobs(300, &mut rng);
    let mut transport = Simulated::new(&model, iid_clients(10, 30, &mut rng), 5);
    transport.dropout = 0.3;
    transport.faults = vec![(3, Fault::NotANumber), (7, Fault::Scale(-50.0))];
    let mut server = Server::fedavg(1, Some(10), 0.1, 1.0);
    server.aggregation = Aggregation::Median;
    let mut weights = model.init(&mut rng);
    let before = test_accuracy(&model, &weights, &test);
    let (mut dropped, mut rejected) = (0, 0);
    for round in 0..20 {
        let report = server.round(round, &mut weights, &mut transport);
        assert_eq!(report.selected.len(), 10);
        dropped += report.dropped.len();
        rejected += report.rejected.len();
        assert!(report.rejected.iter().all(|r| r.client == 3));
        assert!(weights.tensors().all(|t| t.is_finite()));
    }
    assert!(dropped > 20 && dropped < 100, "about 30% of 200 replies dropped, got {dropped}");
    assert!(rejected > 5, "client 3's NaN updates are rejected when it answers ({rejected})");
    let after = test_accuracy(&model, &weights, &test);
    assert!(after > 0.9 && after > before + 0.3, "accuracy {before} -> {after}");
    transport.dropout = 1.0;
    let kept = weights.clone();
    let report = server.round(99, &mut weights, &mut transport);
    assert!(!report.applied && report.dropped.len() == 10);
    assert_eq!(
        kept.iter().map(|(_, t)| t.to_vec()).collect::<Vec<_>>(),
        weights.iter().map(|(_, t)| t.to_vec()).collect::<Vec<_>>()
    );
}

/// FedAvg on IID clients learns, with every server optimiser; and the traffic is counted.
#[test]
fn fedavg_learns_on_iid_clients_with_each_server_optimizer() {
    let model = net();
    for optimizer in [ServerOptimizer::sgd(1.0), ServerOptimizer::momentum(1.0, 0.5), ServerOptimizer::adam(0.05)] {
        let mut rng = StdRng::seed_from_u64(6);
        let test = blobs(300, &mut rng);
        let mut transport = Simulated::new(&model, iid_clients(20, 25, &mut rng), 7);
        let mut server = Server::fedavg(2, Some(5), 0.05, 0.2);
        server.optimizer = optimizer;
        let mut weights = model.init(&mut rng);
        for round in 0..15 {
            server.round(round, &mut weights, &mut transport);
        }
        let acc = test_accuracy(&model, &weights, &test);
        assert!(acc > 0.9, "{:?}: accuracy {acc}", server.optimizer);
        let traffic = transport.traffic();
        let bytes = (weights.numel() * 8) as u64;
        assert_eq!(traffic.sent, 15 * 4 * bytes);
        assert_eq!(traffic.received, traffic.sent);
    }
}

/// Gossip alone (no local steps) keeps the mean and drives every worker to it on a connected
/// graph; the complete graph agrees in one round, the ring slowest.
#[test]
fn gossip_converges_to_the_mean_on_connected_graphs() {
    let model = net();
    let mut rng = StdRng::seed_from_u64(8);
    let mut after_ten = Vec::new();
    for topology in
        [Topology::ring(16), Topology::torus(4, 4), Topology::random_regular(16, 3, 1), Topology::complete(16)]
    {
        let clients = iid_clients(16, 4, &mut rng);
        let mut run = Consensus::new(&model, clients, &model.init(&mut rng), topology.clone(), 0);
        run.weights = (0..16).map(|_| model.init(&mut rng)).collect();
        run.local_steps = 0;
        let mean_before = run.mean();
        let start = consensus_distance(&run.weights);
        let mut distance = start;
        for round in 0..400 {
            distance = run.round(round);
            if round == 9 {
                after_ten.push(distance / start);
            }
        }
        let drift =
            run.mean().iter().zip(mean_before.iter()).map(|((_, a), (_, b))| a.max_abs_diff(b)).fold(0.0, f64::max);
        assert!(drift < 1e-12, "{}: the mean moved by {drift:e}", topology.name);
        assert!(distance < 1e-6 * start, "{}: distance {start} -> {distance}", topology.name);
        // Symmetric with a non-negative diagonal, and every column sums to one: doubly stochastic.
        let rows = topology.mixing();
        let weight = |i: usize, j: usize| rows[i].iter().find(|(k, _)| *k == j).map_or(0.0, |(_, w)| *w);
        for i in 0..16 {
            assert!(weight(i, i) >= 0.0, "{}: negative self-weight", topology.name);
            assert!(((0..16).map(|k| weight(k, i)).sum::<f64>() - 1.0).abs() < 1e-12, "{}", topology.name);
            assert!((0..16).all(|j| weight(i, j) == weight(j, i)), "{}: not symmetric", topology.name);
        }
    }
    // Ring, torus, random 3-regular, complete: the better connected, the faster.
    assert!(after_ten[0] > after_ten[1] && after_ten[1] > after_ten[3] && after_ten[2] > after_ten[3], "{after_ten:?}");
    assert!(after_ten[3] < 1e-20, "the complete graph agrees in one round: {after_ten:?}");
}

/// Decentralised SGD on a ring learns, and its workers stay close.
#[test]
fn decentralised_sgd_learns_on_a_ring() {
    let model = net();
    let mut rng = StdRng::seed_from_u64(9);
    let test = blobs(300, &mut rng);
    let mut run = Consensus::new(&model, iid_clients(8, 40, &mut rng), &model.init(&mut rng), Topology::ring(8), 1);
    run.local_steps = 2;
    run.batch_size = 10;
    run.lr = 0.1;
    let mut distance = 0.0;
    for round in 0..40 {
        distance = run.round(round);
    }
    let acc = test_accuracy(&model, &run.mean(), &test);
    assert!(acc > 0.9 && distance < 0.05, "accuracy {acc}, consensus distance {distance}");
}

/// The same seed gives the same bits at one and at two threads.
#[test]
fn rounds_are_bit_identical_at_one_and_two_threads() {
    let model = net();
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            let mut rng = StdRng::seed_from_u64(10);
            let mut transport = Simulated::new(&model, iid_clients(12, 20, &mut rng), 11);
            transport.dropout = 0.2;
            let mut server = Server::fedavg(1, Some(4), 0.1, 0.5);
            let mut weights = model.init(&mut rng);
            for round in 0..5 {
                server.round(round, &mut weights, &mut transport);
            }
            let mut gossip = Consensus::new(&model, iid_clients(6, 20, &mut rng), &weights, Topology::ring(6), 2);
            gossip.round(0);
            (weights, gossip.mean())
        })
    };
    let (a, b) = (run(1), run(2));
    for (x, y) in [(&a.0, &b.0), (&a.1, &b.1)] {
        for ((name, s), (_, t)) in x.iter().zip(y.iter()) {
            assert_eq!(s.to_vec(), t.to_vec(), "{name} differs between 1 and 2 threads");
        }
    }
}
