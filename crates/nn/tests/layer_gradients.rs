//! Every layer and loss, checked against central differences to first and second order in
//! f64, with respect to both its input and its parameters.

// `&[x.clone()]` reads better here than `std::slice::from_ref(&x)`.
#![allow(clippy::cloned_ref_to_slice_refs)]

use metagrad_autodiff::check::{function, gradcheck, gradgradcheck, Tolerance};
use metagrad_autodiff::{Tensor, Var};
use metagrad_nn::layers::{
    Activation, AvgPool2d, BatchNorm, Conv2d, Dropout, Embedding, GlobalAvgPool, LayerNorm, Linear, MaxPool2d, PRelu,
};
use metagrad_nn::loss::{self, Reduction, Targets};
use metagrad_nn::{Context, Mode, Module, ParamVars, Params};
use rand::rngs::StdRng;
use rand::SeedableRng;

/// Values in roughly [-1.5, 1.5], distinct, in a scrambled order.
fn input(shape: &[usize], seed: usize) -> Tensor<f64> {
    let len: usize = shape.iter().product();
    Tensor::from_vec(
        shape,
        (0..len)
            .map(|i| {
                (((i * 37 + seed * 11) % (len.max(2) * 3)) as f64 / (len.max(2) * 3) as f64 - 0.5) * 3.0
                    + 0.01 * i as f64
            })
            .collect(),
    )
}

/// Checks `module` as a function of (input, parameters...) under `ctx`, both orders.
fn check_module(module: &dyn Module<f64>, x: Tensor<f64>, make_ctx: impl Fn() -> Context<f64>) {
    let params = module.init(&mut StdRng::seed_from_u64(3));
    let names: Vec<String> = params.names().map(str::to_string).collect();
    let mut inputs = vec![x];
    inputs.extend(params.tensors().cloned());
    let f = function(|v| {
        let p = ParamVars::from_pairs(names.iter().cloned().zip(v[1..].iter().copied()).collect());
        module.forward(&p, v[0], &mut make_ctx())
    });
    let tolerance = Tolerance::default();
    gradcheck(f, &inputs, &tolerance).assert_passed();
    gradgradcheck(f, &inputs, &tolerance).assert_passed();
}

#[test]
fn linear() {
    check_module(&Linear::new(3, 2), input(&[4, 3], 1), || Context::train(Params::new(), 0));
}

#[test]
fn conv2d_with_stride_padding_dilation() {
    let conv =
        Conv2d { inputs: 2, outputs: 2, kernel: (2, 3), stride: (2, 1), padding: (1, 1), dilation: (1, 2), bias: true };
    check_module(&conv, input(&[2, 2, 5, 5], 2), || Context::train(Params::new(), 0));
}

#[test]
fn pooling() {
    check_module(&MaxPool2d::new(2), input(&[2, 2, 4, 4], 3), || Context::train(Params::new(), 0));
    check_module(&AvgPool2d { kernel: (3, 3), stride: (2, 2), padding: (1, 1) }, input(&[1, 2, 5, 5], 4), || {
        Context::train(Params::new(), 0)
    });
    check_module(&GlobalAvgPool, input(&[2, 3, 3, 2], 5), || Context::train(Params::new(), 0));
}

#[test]
fn global_average_pooling_is_the_mean_of_each_map() {
    let x = Tensor::from_vec(&[1, 2, 2, 2], vec![1.0, 2.0, 3.0, 6.0, -1.0, -1.0, 0.0, 2.0]);
    let tape = metagrad_autodiff::Tape::new();
    let y = GlobalAvgPool.forward(&ParamVars::from_pairs(vec![]), tape.var(x), &mut Context::eval(Params::new()));
    assert_eq!(y.shape(), vec![1, 2]);
    assert_eq!(y.value().to_vec(), vec![3.0, 0.0]);
}

#[test]
fn batch_norm_in_all_modes() {
    let bn = BatchNorm::new(3);
    check_module(&bn, input(&[4, 3, 2, 2], 5), || Context::train(Module::<f64>::init_state(&bn), 0));
    check_module(&bn, input(&[5, 3], 6), || Context::transductive(0));
    let mut running = Params::new();
    running.insert("running_mean", Tensor::from_vec(&[3], vec![0.1, -0.2, 0.3]));
    running.insert("running_var", Tensor::from_vec(&[3], vec![0.5, 1.5, 2.0]));
    check_module(&bn, input(&[4, 3], 7), move || Context::eval(running.clone()));
}

#[test]
fn batch_norm_tracks_running_statistics_and_uses_them_in_eval() {
    let bn = BatchNorm::new(1);
    let params: Params<f64> = bn.init(&mut StdRng::seed_from_u64(0));
    let mut ctx = Context::train(Module::<f64>::init_state(&bn), 0);
    let tape = metagrad_autodiff::Tape::new();
    let x = tape.constant(Tensor::from_vec(&[4, 1], vec![1.0, 2.0, 3.0, 4.0]));
    let _ = bn.forward(&params.on(&tape), x, &mut ctx);
    // mean 2.5, unbiased variance 5/3; momentum 0.1 from (0, 1).
    assert!((ctx.state.get("running_mean").unwrap().to_vec()[0] - 0.25).abs() < 1e-12);
    assert!((ctx.state.get("running_var").unwrap().to_vec()[0] - (0.9 + 0.1 * 5.0 / 3.0)).abs() < 1e-12);
    let mut eval = Context::eval(ctx.state.clone());
    assert_eq!(eval.mode, Mode::Eval);
    let y = bn.forward(&params.on(&tape), x, &mut eval).value().to_vec();
    let expected: Vec<f64> =
        [1.0, 2.0, 3.0, 4.0].iter().map(|v| (v - 0.25) / (0.9f64 + 0.1 * 5.0 / 3.0 + 1e-5).sqrt()).collect();
    assert!(y.iter().zip(&expected).all(|(a, b)| (a - b).abs() < 1e-12));
}

#[test]
fn layer_norm_dropout_prelu_activations() {
    check_module(&LayerNorm::new(&[4]), input(&[3, 4], 8), || Context::train(Params::new(), 0));
    check_module(&Dropout { p: 0.3 }, input(&[3, 4], 9), || Context::train(Params::new(), 42));
    check_module(&PRelu { channels: 3 }, input(&[2, 3, 2], 10), || Context::train(Params::new(), 0));
    for act in [
        Activation::Relu,
        Activation::LeakyRelu(0.1),
        Activation::Elu(1.0),
        Activation::Gelu,
        Activation::Silu,
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::Softplus,
    ] {
        check_module(&act, input(&[2, 5], 11), || Context::train(Params::new(), 0));
    }
}

#[test]
fn dropout_is_seeded_and_off_in_eval() {
    let tape = metagrad_autodiff::Tape::<f64>::new();
    let x = tape.constant(Tensor::ones(&[1000]));
    let p = Params::new().on(&tape);
    let run = |seed| Dropout { p: 0.5 }.forward(&p, x, &mut Context::train(Params::new(), seed)).value();
    assert_eq!(run(1), run(1));
    let kept = run(1).to_vec().iter().filter(|&&v| v > 0.0).count();
    assert!((400..600).contains(&kept), "{kept} of 1000 kept");
    assert_eq!(Dropout { p: 0.5 }.forward(&p, x, &mut Context::eval(Params::new())).value(), x.value());
}

#[test]
fn embedding_lookup() {
    let table = Embedding { count: 5, dim: 3 };
    let params: Params<f64> = table.init(&mut StdRng::seed_from_u64(0));
    let weight = params.get("weight").unwrap().clone();
    let f = function(|v| {
        let p = ParamVars::from_pairs(vec![("weight".to_string(), v[0])]);
        table.lookup(&p, &[4, 0, 4]).tanh()
    });
    gradcheck(f, std::slice::from_ref(&weight), &Tolerance::default()).assert_passed();
    gradgradcheck(f, &[weight], &Tolerance::default()).assert_passed();
}

#[test]
fn losses() {
    let logits = input(&[3, 4], 12);
    let labels = [2usize, 0, 3];
    // Offset so that no |logit - target| sits on Huber's kink at 0.5, where differences lie.
    let target = Tensor::from_vec(&[3, 4], (0..12).map(|i| ((i * 5) % 7) as f64 / 7.0 + 0.013).collect());
    let probs = Tensor::from_vec(&[3, 4], vec![0.1, 0.2, 0.3, 0.4, 0.25, 0.25, 0.25, 0.25, 0.0, 0.5, 0.5, 0.0]);
    let tol = Tolerance::default();
    for reduction in [Reduction::Mean, Reduction::Sum, Reduction::None] {
        let both = |f: &dyn for<'t> Fn(&[Var<'t, f64>]) -> Var<'t, f64>, inputs: &[Tensor<f64>]| {
            gradcheck(f, inputs, &tol).assert_passed();
            gradgradcheck(f, inputs, &tol).assert_passed();
        };
        both(&|v| loss::mse(v[0], v[1], reduction), &[logits.clone(), target.clone()]);
        both(&|v| loss::huber(v[0], v[1], 0.5, reduction), &[logits.clone(), target.clone()]);
        both(&|v| loss::bce_with_logits(v[0], v[1], reduction), &[logits.clone(), target.clone()]);
        both(&|v| loss::cross_entropy(v[0], Targets::Classes(&labels), 0.1, reduction), &[logits.clone()]);
        both(
            &|v| loss::cross_entropy(v[0], Targets::Soft(v[1].softmax(1)), 0.0, reduction),
            &[logits.clone(), target.clone()],
        );
        both(&|v| loss::nll(v[0].log_softmax(1), &labels, reduction), &[logits.clone()]);
        both(&|v| loss::kl_div(v[0].log_softmax(1), v[0].constant(probs.clone()), reduction), &[logits.clone()]);
    }
}

#[test]
fn cross_entropy_matches_its_formula() {
    let tape = metagrad_autodiff::Tape::<f64>::new();
    let z = tape.constant(Tensor::from_vec(&[1, 3], vec![1.0, 2.0, 3.0]));
    let ce = loss::cross_entropy(z, Targets::Classes(&[2]), 0.0, Reduction::Mean).item();
    let expected = -(3.0 - (1f64.exp() + 2f64.exp() + 3f64.exp()).ln());
    assert!((ce - expected).abs() < 1e-12);
}

mod sequence_and_graph_layers {
    use super::*;
    use metagrad_nn::layers::{
        normalized_adjacency, Aggregation, CellKind, ConvTranspose2d, GraphConv, MultiHeadAttention, Recurrent,
        Residual, TransformerBlock, Upsample,
    };

    /// Checks `f(input, params...)` to first and second order.
    fn check_with_params(
        params: &Params<f64>,
        x: Tensor<f64>,
        f: impl for<'t> Fn(&ParamVars<'t, f64>, Var<'t, f64>) -> Var<'t, f64>,
    ) {
        let names: Vec<String> = params.names().map(str::to_string).collect();
        let mut inputs = vec![x];
        inputs.extend(params.tensors().cloned());
        let g =
            function(|v| f(&ParamVars::from_pairs(names.iter().cloned().zip(v[1..].iter().copied()).collect()), v[0]));
        gradcheck(g, &inputs, &Tolerance::default()).assert_passed();
        gradgradcheck(g, &inputs, &Tolerance::default()).assert_passed();
    }

    #[test]
    fn recurrent_cells_through_time() {
        for kind in [CellKind::Rnn, CellKind::Lstm, CellKind::Gru] {
            let cell = Recurrent { kind, inputs: 2, hidden: 3 };
            let params = cell.init(&mut StdRng::seed_from_u64(1));
            check_with_params(&params, input(&[3, 2, 2], 20), |p, x| cell.unroll(p, x).0);
        }
    }

    #[test]
    fn attention_and_transformer_block() {
        check_module(&MultiHeadAttention { dim: 4, heads: 2 }, input(&[1, 3, 4], 21), || {
            Context::train(Params::new(), 0)
        });
        check_module(&TransformerBlock { dim: 4, heads: 2, hidden: 6 }, input(&[1, 3, 4], 22), || {
            Context::train(Params::new(), 0)
        });
    }

    #[test]
    fn transposed_convolution_upsampling_residual() {
        let deconv = ConvTranspose2d {
            inputs: 2,
            outputs: 2,
            kernel: (3, 3),
            stride: (2, 2),
            padding: (1, 1),
            dilation: (1, 1),
        };
        check_module(&deconv, input(&[1, 2, 3, 3], 23), || Context::train(Params::new(), 0));
        let tape = metagrad_autodiff::Tape::<f64>::new();
        let params = Module::<f64>::init(&deconv, &mut StdRng::seed_from_u64(0));
        let y = deconv.forward(
            &params.on(&tape),
            tape.constant(input(&[1, 2, 3, 3], 1)),
            &mut Context::train(Params::new(), 0),
        );
        assert_eq!(y.shape(), vec![1, 2, 5, 5]);
        check_module(&Upsample { scale: (2, 3) }, input(&[1, 2, 2, 2], 24), || Context::train(Params::new(), 0));
        check_module(&Residual { channels: 2 }, input(&[2, 2, 3, 3], 25), || Context::transductive(0));
    }

    #[test]
    fn graph_convolution() {
        let a_hat: Tensor<f64> = normalized_adjacency(4, &[(0, 1), (1, 2), (2, 3)], Aggregation::Kipf);
        let layer = GraphConv { inputs: 3, outputs: 2 };
        let params = layer.init(&mut StdRng::seed_from_u64(2));
        check_with_params(&params, input(&[4, 3], 26), |p, h| layer.forward(p, h, h.constant(a_hat.clone())));
        let mean: Tensor<f64> = normalized_adjacency(3, &[(0, 1)], Aggregation::Mean);
        assert_eq!(mean.to_vec(), vec![0.5, 0.5, 0.0, 0.5, 0.5, 0.0, 0.0, 0.0, 1.0]);
    }
}
