//! The metric-based few-shot methods and the baselines (matching networks, siamese and triplet
//! networks, pixel nearest neighbour, fine-tuning, relation networks): their outputs by hand on
//! identity encoders, their losses by hand on tiny episodes, and their gradients to second order.

use metagrad_algos::meta::{
    Batch, Episode, FineTune, MatchingNet, MetaMethod, PixelNearestNeighbour, RelationNet, Siamese, Triplet,
    EXTRA_PREFIX,
};
use metagrad_autodiff::check::{self, gradcheck, gradgradcheck, Tolerance};
use metagrad_autodiff::{Tape, Tensor};
use metagrad_nn::layers::{Activation, Linear};
use metagrad_nn::{Context, Module, ParamVars, Params, Sequential};
use rand::rngs::StdRng;
use rand::SeedableRng;

/// A 2-D identity encoder (`"0.weight"` = I), so embeddings are the inputs themselves.
fn identity_encoder() -> (Sequential<f64>, Params<f64>) {
    let encoder = Sequential::<f64>::default().push(Linear { inputs: 2, outputs: 2, bias: false });
    let params = Params::from_pairs([("0.weight".to_string(), Tensor::from_vec(&[2, 2], vec![1.0, 0.0, 0.0, 1.0]))]);
    (encoder, params)
}

/// A tiny smooth encoder `3 -> 4 -> 2` (tanh, so central differences are accurate).
fn small_encoder() -> Sequential<f64> {
    Sequential::<f64>::default().push(Linear::new(3, 4)).push(Activation::Tanh).push(Linear::new(4, 2))
}

/// Rows `[n, 2]` from points.
fn points(xs: &[[f64; 2]]) -> Tensor<f64> {
    Tensor::from_vec(&[xs.len(), 2], xs.iter().flatten().copied().collect())
}

fn softplus(z: f64) -> f64 {
    z.exp().ln_1p()
}

fn assert_close(got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "got {got:?}, want {want:?}");
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() <= tol, "got {got:?}, want {want:?}");
    }
}

/// `same[q][s] = 1` when query `q` and support example `s` share a class.
fn same_class(query: &[usize], support: &[usize]) -> Vec<f64> {
    query.iter().flat_map(|&q| support.iter().map(move |&s| f64::from(u8::from(q == s)))).collect()
}

/// The meta-parameters as Vars in the order of `names`, for `check::function` closures.
fn vars_named<'t>(names: &[String], v: &[metagrad_autodiff::Var<'t, f64>]) -> ParamVars<'t, f64> {
    ParamVars::from_pairs(names.iter().cloned().zip(v.iter().copied()).collect())
}

/// Every entry of `a` and `b` (same names, same order) within `tol`, relative to the larger one.
fn assert_params_close(a: &Params<f64>, b: &Params<f64>, tol: f64) {
    assert_eq!(a.names().collect::<Vec<_>>(), b.names().collect::<Vec<_>>());
    for ((name, x), (_, y)) in a.iter().zip(b.iter()) {
        for (p, q) in x.to_vec().iter().zip(y.to_vec()) {
            assert!((p - q).abs() <= tol * (1.0 + p.abs().max(q.abs())), "{name}: {x:?} vs {y:?}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Matching networks
// ---------------------------------------------------------------------------------------------

#[test]
fn matching_log_probs_are_cosine_attention_summed_per_class() {
    let (encoder, params) = identity_encoder();
    // Class 0 at (2, 0) and (1, 1), class 1 at (0, 3).
    let support = Batch::classification(points(&[[2.0, 0.0], [0.0, 3.0], [1.0, 1.0]]), vec![0, 1, 0]);
    let query = points(&[[1.0, 0.0], [-1.0, 2.0]]);
    let tape = Tape::new();
    let log_probs = MatchingNet.log_probs(&encoder, &params.on(&tape), &support, &query).value();
    assert_eq!(log_probs.shape(), &[2, 2]);
    let got = log_probs.to_vec();

    // Query (1, 0): cosines with the support examples (2, 0), (0, 3), (1, 1) are
    //   1, 0, 1/sqrt(2) = 0.70711.
    // Softmax denominator Z = e^1 + e^0 + e^0.70711 = 2.71828 + 1 + 2.02811 = 5.74640;
    //   P(0) = (e^1 + e^0.70711) / Z = 0.82598, P(1) = e^0 / Z = 0.17402;
    //   log P = (-0.19119, -1.74857).
    let r2 = std::f64::consts::FRAC_1_SQRT_2;
    let z1 = 1f64.exp() + 0f64.exp() + r2.exp();
    let want1 = [((1f64.exp() + r2.exp()) / z1).ln(), (0f64.exp() / z1).ln()];
    // Query (-1, 2), norm sqrt(5): cosines
    //   with (2, 0): -2 / (2 sqrt 5) = -1/sqrt(5) = -0.44721,
    //   with (0, 3):  6 / (3 sqrt 5) =  2/sqrt(5) =  0.89443,
    //   with (1, 1):  1 / (sqrt 2 sqrt 5) = 1/sqrt(10) = 0.31623.
    // Z = e^-0.44721 + e^0.89443 + e^0.31623 = 4.45728;
    //   P(0) = (e^-0.44721 + e^0.31623) / Z = 0.45125, P(1) = e^0.89443 / Z = 0.54875;
    //   log P = (-0.79573, -0.60011).
    let (a, b, c) = (-1.0 / 5f64.sqrt(), 2.0 / 5f64.sqrt(), 1.0 / 10f64.sqrt());
    let z2 = a.exp() + b.exp() + c.exp();
    let want2 = [((a.exp() + c.exp()) / z2).ln(), (b.exp() / z2).ln()];
    // The unit-norm floor (1e-8 added to squared norms) and the 1e-12 inside the log move these
    // by less than 1e-8.
    assert_close(&got, &[want1[0], want1[1], want2[0], want2[1]], 1e-7);
    // The same values written out.
    assert_close(&got, &[-0.19118725, -1.74857302, -0.79573354, -0.60011250], 1e-7);

    // Probabilities: each row sums to one.
    for row in got.chunks(2) {
        let total: f64 = row.iter().map(|l| l.exp()).sum();
        assert!((total - 1.0).abs() < 1e-9, "{row:?} sums to {total}");
    }
    // The predictions are these log-probabilities.
    let predicted = MatchingNet.adapted_predictions(&encoder, &params, &support, &query, &[0, 3]);
    assert_eq!(predicted.len(), 2);
    assert_close(&predicted[1].to_vec(), &got, 1e-12);
}

#[test]
fn matching_query_loss_passes_gradcheck_and_gradgradcheck() {
    let encoder = small_encoder();
    let meta = encoder.init(&mut StdRng::seed_from_u64(0));
    let names: Vec<String> = meta.names().map(str::to_string).collect();
    let mut rng = StdRng::seed_from_u64(1);
    let support = Batch::classification(Tensor::randn(&[4, 3], &mut rng), vec![0, 1, 2, 1]);
    let query = Batch::classification(Tensor::randn(&[3, 3], &mut rng), vec![2, 0, 1]);
    let f = check::function(|v| {
        query.loss(MatchingNet.log_probs(&encoder, &vars_named(&names, v), &support, &query.inputs))
    });
    let inputs: Vec<Tensor<f64>> = meta.tensors().cloned().collect();
    let first = gradcheck(f, &inputs, &Tolerance::default());
    assert!(first.passed, "{first}");
    let second = gradgradcheck(f, &inputs, &Tolerance::default());
    assert!(second.passed, "{second}");

    // task_gradient differentiates this same loss.
    let episode = Episode { support: support.clone(), query: query.clone() };
    let task = MatchingNet.task_gradient(&encoder, &meta, &episode);
    let tape = Tape::new();
    let all = meta.on(&tape);
    let loss = query.loss(MatchingNet.log_probs(&encoder, &all, &support, &query.inputs));
    assert!((task.query_loss - loss.item()).abs() < 1e-12, "{} vs {}", task.query_loss, loss.item());
    assert_params_close(&task.grads, &all.grad(loss), 1e-10);
}

// ---------------------------------------------------------------------------------------------
// Siamese networks
// ---------------------------------------------------------------------------------------------

/// The identity encoder with `w = (0.5, -2)`, `b = 0.25`.
fn siamese_identity() -> (Sequential<f64>, Params<f64>) {
    let (encoder, mut params) = identity_encoder();
    params.insert(format!("{EXTRA_PREFIX}siamese.weight"), Tensor::from_vec(&[2, 1], vec![0.5, -2.0]));
    params.insert(format!("{EXTRA_PREFIX}siamese.bias"), Tensor::scalar(0.25));
    (encoder, params)
}

#[test]
fn siamese_init_extra_starts_at_minus_one_over_features_and_one() {
    let method = Siamese { features: 4 };
    let extra: Params<f64> = method.init_extra(&Params::new());
    assert_eq!(extra.names().collect::<Vec<_>>(), vec!["meta.siamese.weight", "meta.siamese.bias"]);
    let weight = extra.get("meta.siamese.weight").unwrap();
    assert_eq!(weight.shape(), &[4, 1]);
    assert_eq!(weight.to_vec(), vec![-0.25; 4]);
    assert_eq!(extra.get("meta.siamese.bias").unwrap().to_vec(), vec![1.0]);
}

#[test]
fn siamese_pair_logits_and_class_logits_by_hand() {
    let (encoder, params) = siamese_identity();
    let method = Siamese { features: 2 };
    // Two shots per class: class 0 at (0, 0) and (3, -1), class 1 at (1, 2) and (-1, 1).
    let support = Batch::classification(points(&[[0.0, 0.0], [1.0, 2.0], [3.0, -1.0], [-1.0, 1.0]]), vec![0, 1, 0, 1]);
    let query = points(&[[1.0, 1.0], [0.0, -1.0]]);
    let tape = Tape::new();
    let all = params.on(&tape);
    let pairs = method.pair_logits(&encoder, &all, &support, &query).value();
    assert_eq!(pairs.shape(), &[2, 4]);
    // z = 0.5 |dx| - 2 |dy| + 0.25.
    // Query (1, 1):  |q - s| = (1, 1), (0, 1), (2, 2), (2, 0)
    //   -> 0.5 - 2 + 0.25 = -1.25, 0 - 2 + 0.25 = -1.75, 1 - 4 + 0.25 = -2.75, 1 - 0 + 0.25 = 1.25.
    // Query (0, -1): |q - s| = (0, 1), (1, 3), (3, 0), (1, 2)
    //   -> -1.75, 0.5 - 6 + 0.25 = -5.25, 1.5 + 0.25 = 1.75, 0.5 - 4 + 0.25 = -3.25.
    assert_close(&pairs.to_vec(), &[-1.25, -1.75, -2.75, 1.25, -1.75, -5.25, 1.75, -3.25], 1e-12);

    let logits = method.logits(&encoder, &all, &support, &query).value();
    assert_eq!(logits.shape(), &[2, 2]);
    // Class means: query (1, 1): class 0 (-1.25 - 2.75) / 2 = -2, class 1 (-1.75 + 1.25) / 2 = -0.25;
    //              query (0, -1): class 0 (-1.75 + 1.75) / 2 = 0, class 1 (-5.25 - 3.25) / 2 = -4.25.
    assert_close(&logits.to_vec(), &[-2.0, -0.25, 0.0, -4.25], 1e-12);
    let predicted = method.adapted_predictions(&encoder, &params, &support, &query, &[1]);
    assert_close(&predicted[0].to_vec(), &logits.to_vec(), 1e-12);
}

#[test]
fn siamese_task_loss_is_balanced_binary_cross_entropy() {
    let (encoder, params) = siamese_identity();
    let method = Siamese { features: 2 };
    // Three classes, so a query has fewer matching than non-matching pairs and the balancing
    // matters: class 0 at (0, 0), class 1 at (1, 2) and (-1, 1), class 2 at (3, -1).
    let support = Batch::classification(points(&[[0.0, 0.0], [1.0, 2.0], [3.0, -1.0], [-1.0, 1.0]]), vec![0, 1, 2, 1]);
    let query = Batch::classification(points(&[[1.0, 1.0], [0.0, -1.0]]), vec![1, 0]);
    let task = method.task_gradient(&encoder, &params, &Episode { support, query });
    // Pair logits as in `siamese_pair_logits_and_class_logits_by_hand`:
    //   query (1, 1), label 1:  -1.25 (c0), -1.75 (c1), -2.75 (c2), 1.25 (c1)
    //   query (0, -1), label 0: -1.75 (c0), -5.25 (c1), 1.75 (c2), -3.25 (c1)
    // softplus(z) - y z is softplus(-z) on a matching pair and softplus(z) on the others.
    // Matching (3): softplus(1.75) = 1.91022, softplus(-1.25) = 0.25193, softplus(1.75) = 1.91022.
    // Non-matching (5): softplus(-1.25) = 0.25193, softplus(-2.75) = 0.06197,
    //   softplus(-5.25) = 0.00523, softplus(1.75) = 1.91022, softplus(-3.25) = 0.03804.
    // Loss = 0.5 * 4.07238 / 3 + 0.5 * 2.26740 / 5 = 0.67873 + 0.22674 = 0.90547
    // (the unbalanced mean over all 8 pairs would be 0.79247).
    let matching = [softplus(1.75), softplus(-1.25), softplus(1.75)];
    let other = [softplus(-1.25), softplus(-2.75), softplus(-5.25), softplus(1.75), softplus(-3.25)];
    let want = 0.5 * matching.iter().sum::<f64>() / 3.0 + 0.5 * other.iter().sum::<f64>() / 5.0;
    assert!((want - 0.9054691627662097).abs() < 1e-12);
    assert!((task.query_loss - want).abs() < 1e-12, "query loss {} vs {want}", task.query_loss);
    assert_eq!(task.grads.names().collect::<Vec<_>>(), params.names().collect::<Vec<_>>());
}

#[test]
fn siamese_loss_passes_gradcheck_and_gradgradcheck() {
    let encoder = small_encoder();
    let method = Siamese { features: 2 };
    let mut meta = encoder.init(&mut StdRng::seed_from_u64(2));
    meta.extend_prefixed("", method.init_extra(&meta));
    let mut rng = StdRng::seed_from_u64(3);
    // Move w and b off their symmetric start.
    meta.insert(format!("{EXTRA_PREFIX}siamese.weight"), Tensor::randn(&[2, 1], &mut rng));
    meta.insert(format!("{EXTRA_PREFIX}siamese.bias"), Tensor::scalar(0.3));
    let names: Vec<String> = meta.names().map(str::to_string).collect();
    let support_labels = vec![0, 1, 2, 1];
    let query_labels = vec![1, 0, 2];
    let support = Batch::classification(Tensor::randn(&[4, 3], &mut rng), support_labels.clone());
    let query = Batch::classification(Tensor::randn(&[3, 3], &mut rng), query_labels.clone());
    // The balanced weights by hand: 4 matching pairs, 8 non-matching.
    let same = same_class(&query_labels, &support_labels);
    let positives = same.iter().sum::<f64>();
    assert_eq!(positives, 4.0);
    let weights: Vec<f64> = same.iter().map(|&s| if s > 0.0 { 0.5 / 4.0 } else { 0.5 / 8.0 }).collect();
    let (same, weights) = (Tensor::from_vec(&[3, 4], same), Tensor::from_vec(&[3, 4], weights));
    let f = check::function(|v| {
        let z = method.pair_logits(&encoder, &vars_named(&names, v), &support, &query.inputs);
        ((z.softplus() - z.constant(same.clone()) * z) * z.constant(weights.clone())).sum()
    });
    let inputs: Vec<Tensor<f64>> = meta.tensors().cloned().collect();
    let first = gradcheck(f, &inputs, &Tolerance::default());
    assert!(first.passed, "{first}");
    let second = gradgradcheck(f, &inputs, &Tolerance::default());
    assert!(second.passed, "{second}");

    // task_gradient's loss and gradients are this loss's.
    let task = method.task_gradient(&encoder, &meta, &Episode { support: support.clone(), query: query.clone() });
    let tape = Tape::new();
    let vars = meta.on(&tape).vars();
    let loss = f(&vars);
    assert!((task.query_loss - loss.item()).abs() < 1e-12, "{} vs {}", task.query_loss, loss.item());
    assert_params_close(&task.grads, &vars_named(&names, &vars).grad(loss), 1e-10);
}

// ---------------------------------------------------------------------------------------------
// Triplet networks
// ---------------------------------------------------------------------------------------------

#[test]
fn triplet_distances_logits_and_loss_by_hand() {
    let (encoder, params) = identity_encoder();
    let method = Triplet { margin: 1.0 };
    // Class 0 at (0, 0) and (3, -1), class 1 at (1, 2).
    let support = Batch::classification(points(&[[0.0, 0.0], [1.0, 2.0], [3.0, -1.0]]), vec![0, 1, 0]);
    let query = Batch::classification(points(&[[1.0, 1.0], [0.0, -1.0], [2.0, -1.0]]), vec![0, 1, 0]);
    let tape = Tape::new();
    let all = params.on(&tape);
    let d = method.distances(&encoder, &all, &support, &query.inputs).value();
    assert_eq!(d.shape(), &[3, 3]);
    // Query (1, 1):  1 + 1 = 2, 0 + 1 = 1, 4 + 4 = 8.
    // Query (0, -1): 0 + 1 = 1, 1 + 9 = 10, 9 + 0 = 9.
    // Query (2, -1): 4 + 1 = 5, 1 + 9 = 10, 1 + 0 = 1.
    assert_close(&d.to_vec(), &[2.0, 1.0, 8.0, 1.0, 10.0, 9.0, 5.0, 10.0, 1.0], 1e-12);

    // Logits: minus the mean distance per class.
    //   (1, 1): -(2 + 8) / 2 = -5, -1;  (0, -1): -(1 + 9) / 2 = -5, -10;  (2, -1): -(5 + 1) / 2 = -3, -10.
    let logits = method.logits(&encoder, &all, &support, &query.inputs).value();
    assert_close(&logits.to_vec(), &[-5.0, -1.0, -5.0, -10.0, -3.0, -10.0], 1e-12);

    // Triplets (anchor, positive, negative), hinge max(0, d(a, p) - d(a, n) + 1):
    //   (1, 1), label 0:  p = s0, n = s1: 2 - 1 + 1 = 2;    p = s2, n = s1: 8 - 1 + 1 = 8.
    //   (0, -1), label 1: p = s1, n = s0: 10 - 1 + 1 = 10;  p = s1, n = s2: 10 - 9 + 1 = 2.
    //   (2, -1), label 0: p = s0, n = s1: 5 - 10 + 1 = -4 -> 0;  p = s2, n = s1: 1 - 10 + 1 = -8 -> 0.
    // Mean over the 6 triplets: (2 + 8 + 10 + 2 + 0 + 0) / 6 = 22 / 6 = 3.66667
    // (without the hinge it would be 10 / 6).
    let task = method.task_gradient(&encoder, &params, &Episode { support, query });
    assert!((task.query_loss - 22.0 / 6.0).abs() < 1e-12, "query loss {}", task.query_loss);
}

#[test]
fn triplet_loss_passes_gradcheck_and_gradgradcheck() {
    let encoder = small_encoder();
    // A margin far above any distance between these embeddings keeps every hinge active, so
    // the loss is smooth where the finite differences probe it.
    let method = Triplet { margin: 50.0 };
    let meta = encoder.init(&mut StdRng::seed_from_u64(4));
    let names: Vec<String> = meta.names().map(str::to_string).collect();
    let mut rng = StdRng::seed_from_u64(5);
    let support_labels = vec![0, 1, 2, 1];
    let query_labels = vec![1, 0, 2];
    let support = Batch::classification(Tensor::randn(&[4, 3], &mut rng), support_labels.clone());
    let query = Batch::classification(Tensor::randn(&[3, 3], &mut rng), query_labels.clone());
    // The valid triplets by hand: mask[q][p][n] = same(q, p) and not same(q, n).
    let same = same_class(&query_labels, &support_labels);
    let mut mask = Vec::new();
    for q in 0..3 {
        for p in 0..4 {
            for n in 0..4 {
                mask.push(f64::from(u8::from(same[q * 4 + p] > 0.0 && same[q * 4 + n] == 0.0)));
            }
        }
    }
    // Query labels 1, 0, 2: 2 positives x 2 negatives, 1 x 3, 1 x 3.
    let count = mask.iter().sum::<f64>();
    assert_eq!(count, 10.0);
    let mask = Tensor::from_vec(&[3, 4, 4], mask);
    let margin = method.margin;
    let f = check::function(|v| {
        let d = method.distances(&encoder, &vars_named(&names, v), &support, &query.inputs);
        let gap = d.reshape(&[3, 4, 1]).broadcast_to(&[3, 4, 4]) - d.reshape(&[3, 1, 4]).broadcast_to(&[3, 4, 4]);
        ((gap + margin).relu() * d.constant(mask.clone())).sum() * (1.0 / count)
    });
    {
        let tape = Tape::new();
        let d = method.distances(&encoder, &meta.on(&tape), &support, &query.inputs).value().to_vec();
        let spread = d.iter().fold(0.0f64, |m, &x| m.max(x));
        assert!(spread < margin / 2.0, "distances up to {spread}: some hinge may be inactive");
    }
    let inputs: Vec<Tensor<f64>> = meta.tensors().cloned().collect();
    let first = gradcheck(f, &inputs, &Tolerance::default());
    assert!(first.passed, "{first}");
    let second = gradgradcheck(f, &inputs, &Tolerance::default());
    assert!(second.passed, "{second}");

    // task_gradient's loss and gradients are this loss's.
    let task = method.task_gradient(&encoder, &meta, &Episode { support: support.clone(), query: query.clone() });
    let tape = Tape::new();
    let vars = meta.on(&tape).vars();
    let loss = f(&vars);
    assert!((task.query_loss - loss.item()).abs() < 1e-12, "{} vs {}", task.query_loss, loss.item());
    assert_params_close(&task.grads, &vars_named(&names, &vars).grad(loss), 1e-10);
}

// ---------------------------------------------------------------------------------------------
// Pixel nearest neighbour
// ---------------------------------------------------------------------------------------------

#[test]
fn nearest_neighbour_logits_are_minus_the_distance_to_the_nearest_shot() {
    // Class 0 has two shots, (0, 0) and (3, -1); class 1 one, (1, 2).
    let support = Batch::classification(points(&[[0.0, 0.0], [1.0, 2.0], [3.0, -1.0]]), vec![0, 1, 0]);
    let query = points(&[[1.0, 1.0], [2.0, -1.0]]);
    let logits = PixelNearestNeighbour.logits(&support, &query);
    assert_eq!(logits.shape(), &[2, 2]);
    // Query (1, 1):  class 0 min(1 + 1, 4 + 4) = min(2, 8) = 2 (the first shot), class 1: 0 + 1 = 1.
    // Query (2, -1): class 0 min(4 + 1, 1 + 0) = min(5, 1) = 1 (the second shot), class 1: 1 + 9 = 10.
    assert_close(&logits.to_vec(), &[-2.0, -1.0, -1.0, -10.0], 1e-12);

    // Nothing to learn: zero gradients, and the query loss is the cross-entropy of these logits.
    let (encoder, params) = identity_encoder();
    let query = Batch::classification(query, vec![1, 0]);
    let task = PixelNearestNeighbour.task_gradient(&encoder, &params, &Episode { support: support.clone(), query });
    assert_eq!(task.grads.get("0.weight").unwrap().to_vec(), vec![0.0; 4]);
    // -log softmax: row 1 label 1: log(e^-2 + e^-1) + 1; row 2 label 0: log(e^-1 + e^-10) + 1.
    let want = (((-2f64).exp() + (-1f64).exp()).ln() + 1.0 + ((-1f64).exp() + (-10f64).exp()).ln() + 1.0) / 2.0;
    assert!((task.query_loss - want).abs() < 1e-12, "{} vs {want}", task.query_loss);
}

// ---------------------------------------------------------------------------------------------
// Fine-tuning baseline
// ---------------------------------------------------------------------------------------------

#[test]
fn finetune_fits_a_new_head_and_optionally_the_backbone() {
    let (encoder, mut meta) = identity_encoder();
    let frozen = FineTune { classes: 5, features: 2, lr: 0.5, backbone_lr: None, seed: 0 };
    meta.extend_prefixed("", frozen.init_extra(&meta));
    // Three linearly separable classes, two shots each.
    let xs = [[2.0, 0.0], [1.5, 0.5], [-1.0, 1.7], [-1.5, 1.0], [-1.0, -1.7], [-0.5, -1.5]];
    let labels = vec![0, 0, 1, 1, 2, 2];
    let support = Batch::classification(points(&xs), labels.clone());
    let steps = [0, 1, 100];
    let run = frozen.adapted_predictions(&encoder, &meta, &support, &support.inputs, &steps);
    assert_eq!(run.len(), 3);
    // A zero-initialised head: all-zero logits before any step.
    assert_eq!(run[0].shape(), &[6, 3]);
    assert_eq!(run[0].to_vec(), vec![0.0; 18]);
    // One step by hand: at a zero head every softmax is 1/3, so the mean cross-entropy's
    // gradient is dW = X^T (1/3 - Y) / 6, db = column sums of (1/3 - Y) / 6 = 0 (balanced), and
    // after the step W = 0.5 X^T (Y - 1/3) / 6; the logits are X W.
    let mut w = [[0.0; 3]; 2];
    for (x, &y) in xs.iter().zip(&labels) {
        for (i, row) in w.iter_mut().enumerate() {
            for (k, entry) in row.iter_mut().enumerate() {
                *entry += 0.5 * x[i] * (f64::from(u8::from(k == y)) - 1.0 / 3.0) / 6.0;
            }
        }
    }
    let one_step: Vec<f64> = xs.iter().flat_map(|x| (0..3).map(move |k| x[0] * w[0][k] + x[1] * w[1][k])).collect();
    assert_close(&run[1].to_vec(), &one_step, 1e-12);
    // After 100 steps every support example is classified correctly, with margin.
    let fitted = run[2].to_vec();
    for (row, &y) in fitted.chunks(3).zip(&labels) {
        for (k, &l) in row.iter().enumerate() {
            assert!(k == y || row[y] > l + 1.0, "label {y}, logits {row:?}");
        }
    }

    // Fine-tuning the encoder as well: the same after one step (at a zero head the encoder's
    // gradient is zero), different after 100.
    let tuned = FineTune { backbone_lr: Some(0.1), ..frozen };
    let run_tuned = tuned.adapted_predictions(&encoder, &meta, &support, &support.inputs, &steps);
    assert_eq!(run_tuned[0].to_vec(), vec![0.0; 18]);
    assert_close(&run_tuned[1].to_vec(), &one_step, 1e-12);
    let diff = run_tuned[2].max_abs_diff(&run[2]);
    assert!(diff > 1e-2, "fine-tuning the backbone changed the predictions by only {diff}");
}

/// The pretraining loss `CE(f(x) W + b)` on `batch`, with nothing recorded.
fn pretrain_loss(encoder: &dyn Module<f64>, meta: &Params<f64>, batch: &Batch<f64>) -> f64 {
    let tape = Tape::new();
    let logits = tape.no_grad(|| {
        let all = meta.on(&tape);
        let features = encoder.forward(&all, tape.constant(batch.inputs.clone()), &mut Context::transductive(0));
        (features.matmul(all.get("meta.head.weight")) + all.get("meta.head.bias")).value()
    });
    batch.loss_value(&logits)
}

#[test]
fn finetune_init_extra_and_pretraining_gradient() {
    let encoder = Sequential::<f64>::default().push(Linear::new(2, 3)).push(Activation::Tanh).push(Linear::new(3, 2));
    let method = FineTune { classes: 4, features: 2, lr: 0.1, backbone_lr: None, seed: 7 };
    let mut meta = encoder.init(&mut StdRng::seed_from_u64(6));
    let extra = method.init_extra(&meta);
    assert_eq!(extra.names().collect::<Vec<_>>(), vec!["meta.head.weight", "meta.head.bias"]);
    assert_eq!(extra.get("meta.head.weight").unwrap().shape(), &[2, 4]);
    assert_eq!(extra.get("meta.head.bias").unwrap().shape(), &[4]);
    assert_eq!(extra.get("meta.head.bias").unwrap().to_vec(), vec![0.0; 4]);
    assert!(extra.get("meta.head.weight").unwrap().to_vec().iter().any(|&v| v != 0.0));
    // The seed fixes the head.
    assert_eq!(extra, method.init_extra(&meta));
    meta.extend_prefixed("", extra);

    // A minibatch labelled over all 4 pretraining classes; the support set is ignored.
    let mut rng = StdRng::seed_from_u64(8);
    let batch = Batch::classification(Tensor::randn(&[5, 2], &mut rng), vec![0, 3, 1, 2, 3]);
    let ignored = Batch::classification(Tensor::randn(&[1, 2], &mut rng), vec![0]);
    let task = method.task_gradient(&encoder, &meta, &Episode { support: ignored, query: batch.clone() });
    assert!((task.query_loss - pretrain_loss(&encoder, &meta, &batch)).abs() < 1e-12);
    assert_eq!(task.grads.names().collect::<Vec<_>>(), meta.names().collect::<Vec<_>>());
    for (name, g) in task.grads.iter() {
        assert!(g.is_finite(), "{name}: {g:?}");
        assert!(g.to_vec().iter().any(|&v| v != 0.0), "{name}: zero gradient");
    }
    // Against central differences of the loss, in every entry of every parameter.
    let h = 1e-6;
    for (name, value) in meta.iter() {
        for i in 0..value.len() {
            let shifted = |delta: f64| {
                let mut data = value.to_vec();
                data[i] += delta;
                let mut p = meta.clone();
                p.insert(name, Tensor::from_vec(value.shape(), data));
                pretrain_loss(&encoder, &p, &batch)
            };
            let numeric = (shifted(h) - shifted(-h)) / (2.0 * h);
            let analytic = task.grads.get(name).unwrap().to_vec()[i];
            assert!((numeric - analytic).abs() < 1e-6, "{name}[{i}]: {analytic} vs {numeric}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Relation networks
// ---------------------------------------------------------------------------------------------

#[test]
fn relation_scores_and_gradients_on_small_images() {
    let encoder = RelationNet::encoder::<f32>();
    let method = RelationNet { seed: 9 };
    let mut meta = encoder.init(&mut StdRng::seed_from_u64(10));
    let extra = MetaMethod::<f32>::init_extra(&method, &meta);
    assert!(!extra.is_empty());
    for name in extra.names() {
        assert!(name.starts_with("meta.relation."), "{name}");
        assert!(meta.get(name).is_none(), "{name} clashes with the encoder");
    }
    // The relation module ends in Linear(8, 1) then a sigmoid: its last two parameters.
    let extra_names: Vec<String> = extra.names().map(str::to_string).collect();
    let (last_weight, last_bias) = (&extra_names[extra_names.len() - 2], &extra_names[extra_names.len() - 1]);
    assert_eq!(extra.get(last_weight).unwrap().shape(), &[8, 1]);
    assert_eq!(extra.get(last_bias).unwrap().shape(), &[1]);
    meta.extend_prefixed("", extra);

    // 3-way 1-shot, 2 queries per class, random 28x28 images.
    let mut rng = StdRng::seed_from_u64(11);
    let support = Batch::classification(Tensor::<f32>::randn(&[3, 1, 28, 28], &mut rng), vec![0, 1, 2]);
    let query = Batch::classification(Tensor::<f32>::randn(&[6, 1, 28, 28], &mut rng), vec![0, 0, 1, 1, 2, 2]);
    let tape = Tape::new();
    let scores = tape.no_grad(|| method.scores(&encoder, &meta.on(&tape), &support, &query.inputs).value());
    assert_eq!(scores.shape(), &[6, 3]);
    assert!(scores.to_vec().iter().all(|&s| s > 0.0 && s < 1.0), "{scores:?}");
    let predicted = method.adapted_predictions(&encoder, &meta, &support, &query.inputs, &[0]);
    assert!(predicted[0].max_abs_diff(&scores) < 1e-6);

    let task = method.task_gradient(&encoder, &meta, &Episode { support, query });
    // The mean squared error of scores in (0, 1) against 0/1 targets.
    assert!(task.query_loss > 0.0 && task.query_loss < 1.0, "{}", task.query_loss);
    assert_eq!(task.grads.names().collect::<Vec<_>>(), meta.names().collect::<Vec<_>>());
    for (name, g) in task.grads.iter() {
        assert!(g.is_finite(), "{name}: not finite");
    }
    for name in [last_weight, last_bias] {
        let g = task.grads.get(name).unwrap().to_vec();
        assert!(g.iter().any(|&v| v != 0.0), "{name}: zero gradient {g:?}");
    }
}
