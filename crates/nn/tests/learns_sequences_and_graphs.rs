//! The sequence and graph layers learn: an LSTM solves the adding problem, a transformer block
//! learns to reverse short sequences, and a graph convolution separates planted communities.

use metagrad_autodiff::{Tape, Tensor, Var};
use metagrad_nn::layers::{
    normalized_adjacency, Aggregation, CellKind, Embedding, GraphConv, Linear, Recurrent, TransformerBlock,
};
use metagrad_nn::loss::{self, Reduction, Targets};
use metagrad_nn::optim::{Adam, Optimizer};
use metagrad_nn::{Context, Module, ParamVars, Params};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The adding problem (Hochreiter & Schmidhuber 1997): a sequence of (value, marker) pairs, two
/// of them marked; the target is the sum of the two marked values.
fn adding_batch(steps: usize, batch: usize, rng: &mut StdRng) -> (Tensor<f32>, Tensor<f32>) {
    let mut xs = vec![0.0f32; steps * batch * 2];
    let mut ys = vec![0.0f32; batch];
    for b in 0..batch {
        let first = rng.gen_range(0..steps / 2);
        let second = rng.gen_range(steps / 2..steps);
        for t in 0..steps {
            let value: f32 = rng.gen();
            xs[(t * batch + b) * 2] = value;
            if t == first || t == second {
                xs[(t * batch + b) * 2 + 1] = 1.0;
                ys[b] += value;
            }
        }
    }
    (Tensor::from_vec(&[steps, batch, 2], xs), Tensor::from_vec(&[batch, 1], ys))
}

#[test]
fn lstm_solves_the_adding_problem() {
    let cell = Recurrent { kind: CellKind::Lstm, inputs: 2, hidden: 16 };
    let head = Linear::new(16, 1);
    let mut rng = StdRng::seed_from_u64(0);
    let mut params: Params<f32> = Params::new();
    params.extend_prefixed("cell", cell.init(&mut rng));
    params.extend_prefixed("head", Module::<f32>::init(&head, &mut rng));
    let mut adam = Adam::new(0.01);
    let mse = |params: &Params<f32>, x: &Tensor<f32>, y: &Tensor<f32>| {
        let tape = Tape::new();
        let p = params.on(&tape);
        let (_, last) = cell.unroll(&p.scoped("cell"), tape.constant(x.clone()));
        let prediction = head.forward(&p.scoped("head"), last.h, &mut Context::eval(Params::new()));
        let l = loss::mse(prediction, tape.constant(y.clone()), Reduction::Mean);
        (l.item(), p.grad(l))
    };
    let (test_x, test_y) = adding_batch(10, 256, &mut StdRng::seed_from_u64(99));
    let before = mse(&params, &test_x, &test_y).0;
    for _ in 0..400 {
        let (x, y) = adding_batch(10, 32, &mut rng);
        let (_, grads) = mse(&params, &x, &y);
        adam.step(&mut params, &grads);
    }
    let after = mse(&params, &test_x, &test_y).0;
    // Predicting the mean (1.0) scores about 1/6; the sum of two U[0,1] values needs memory.
    eprintln!("adding problem: test MSE {before:.4} -> {after:.4}");
    assert!(after < 0.02, "adding problem: test MSE {before:.4} -> {after:.4}");
}

#[test]
fn transformer_block_learns_to_reverse_sequences() {
    let (vocab, length, dim) = (6usize, 5usize, 32usize);
    let tokens = Embedding { count: vocab, dim };
    let positions = Embedding { count: length, dim };
    let block = TransformerBlock { dim, heads: 4, hidden: 64 };
    let readout = Linear::new(dim, vocab);
    let mut rng = StdRng::seed_from_u64(1);
    let mut params: Params<f32> = Params::new();
    params.extend_prefixed("tokens", tokens.init(&mut rng).map(|t| t.map(|v| v * 0.3)));
    params.extend_prefixed("positions", positions.init(&mut rng).map(|t| t.map(|v| v * 0.3)));
    params.extend_prefixed("block", Module::<f32>::init(&block, &mut rng));
    params.extend_prefixed("readout", Module::<f32>::init(&readout, &mut rng));
    let mut adam = Adam::new(3e-3);
    let run = |params: &Params<f32>, sequences: &[Vec<usize>]| {
        let tape = Tape::new();
        let p = params.on(&tape);
        let n = sequences.len();
        let flat: Vec<usize> = sequences.concat();
        let position_ids: Vec<usize> = (0..n * length).map(|i| i % length).collect();
        let x = tokens.lookup(&p.scoped("tokens"), &flat) + positions.lookup(&p.scoped("positions"), &position_ids);
        let h = block.forward(&p.scoped("block"), x.reshape(&[n, length, dim]), &mut Context::train(Params::new(), 0));
        let logits =
            readout.forward(&p.scoped("readout"), h.reshape(&[n * length, dim]), &mut Context::train(Params::new(), 0));
        let targets: Vec<usize> = sequences.iter().flat_map(|s| s.iter().rev().copied()).collect();
        let l = loss::cross_entropy(logits, Targets::Classes(&targets), 0.0, Reduction::Mean);
        (loss::accuracy(&logits.value(), &targets), p.grad(l))
    };
    let draw = |count: usize, rng: &mut StdRng| -> Vec<Vec<usize>> {
        (0..count).map(|_| (0..length).map(|_| rng.gen_range(0..vocab)).collect()).collect()
    };
    let test = draw(200, &mut StdRng::seed_from_u64(7));
    let before = run(&params, &test).0;
    for _ in 0..600 {
        let batch = draw(32, &mut rng);
        let (_, grads) = run(&params, &batch);
        adam.step(&mut params, &grads);
    }
    let after = run(&params, &test).0;
    eprintln!("reverse: token accuracy {before:.3} -> {after:.3}");
    assert!(after > 0.95, "reverse: token accuracy {before:.3} -> {after:.3}");
}

#[test]
fn graph_convolution_separates_planted_communities() {
    // Two communities of 20 nodes: dense inside (p = 0.3), sparse across (p = 0.02).
    let mut rng = StdRng::seed_from_u64(3);
    let nodes = 40;
    let community = |i: usize| i / 20;
    let mut edges = Vec::new();
    for i in 0..nodes {
        for j in i + 1..nodes {
            let p = if community(i) == community(j) { 0.3 } else { 0.02 };
            if rng.gen::<f64>() < p {
                edges.push((i, j));
            }
        }
    }
    let a_hat: Tensor<f32> = normalized_adjacency(nodes, &edges, Aggregation::Kipf);
    // Featureless nodes (one-hot ids); labels known for 2 nodes per community only.
    let features = Tensor::from_vec(
        &[nodes, nodes],
        (0..nodes * nodes).map(|k| if k / nodes == k % nodes { 1.0 } else { 0.0 }).collect(),
    );
    let (first, second) = (GraphConv { inputs: nodes, outputs: 16 }, GraphConv { inputs: 16, outputs: 2 });
    let mut params: Params<f32> = Params::new();
    params.extend_prefixed("1", first.init(&mut rng));
    params.extend_prefixed("2", second.init(&mut rng));
    let labelled = [0usize, 1, 20, 21];
    let labels: Vec<usize> = labelled.iter().map(|&i| community(i)).collect();
    let mut adam = Adam::new(0.02);
    let layers = (first, second);
    fn logits_of<'t>(
        params: &Params<f32>,
        tape: &'t Tape<f32>,
        layers: (GraphConv, GraphConv),
        a_hat: &Tensor<f32>,
        features: &Tensor<f32>,
    ) -> (Var<'t, f32>, ParamVars<'t, f32>) {
        let p = params.on(tape);
        let a = tape.constant(a_hat.clone());
        let h = layers.0.forward(&p.scoped("1"), tape.constant(features.clone()), a).relu();
        (layers.1.forward(&p.scoped("2"), h, a), p)
    }
    for _ in 0..200 {
        let tape = Tape::new();
        let (logits, p) = logits_of(&params, &tape, layers, &a_hat, &features);
        let l = loss::cross_entropy(logits.index_select(0, &labelled), Targets::Classes(&labels), 0.0, Reduction::Mean);
        let grads = p.grad(l);
        adam.step(&mut params, &grads);
    }
    let tape = Tape::new();
    let (logits, _) = logits_of(&params, &tape, layers, &a_hat, &features);
    let unlabelled: Vec<usize> = (0..nodes).filter(|i| !labelled.contains(i)).collect();
    let truth: Vec<usize> = unlabelled.iter().map(|&i| community(i)).collect();
    let accuracy = loss::accuracy(&logits.index_select(0, &unlabelled).value(), &truth);
    eprintln!("communities: accuracy on unlabelled nodes {accuracy:.3}");
    assert!(accuracy >= 0.9, "community accuracy on unlabelled nodes: {accuracy:.3}");
}
