//! Long tensors run their elementwise ops, broadcasts, `sum_to` and max-pooling in parallel
//! blocks: the values and gradients must be bit-identical on one thread and on two, and
//! max-pooling a large batch must equal pooling its images one by one.

use metagrad_autodiff::{Tape, Tensor};
use rand::{rngs::StdRng, SeedableRng};

/// A batch-norm, ReLU and max-pool block on `[8, 32, 12, 12]` (36,864 elements, above the
/// parallel threshold): its output and the gradients of a loss on it.
fn block(x: &Tensor<f32>, scale: &Tensor<f32>) -> (Tensor<f32>, Vec<Tensor<f32>>) {
    let tape = Tape::new();
    let (x, scale) = (tape.var(x.clone()), tape.var(scale.clone()));
    let mean = x.mean_axes(&[0, 2, 3], true);
    let var = (x - mean).square().mean_axes(&[0, 2, 3], true);
    let normalised = (x - mean) / (var + 1e-5).sqrt() * scale;
    let out = normalised.relu().max_pool2d((2, 2), (2, 2), (0, 0));
    let loss = (out * out.tanh()).sum();
    (out.value(), tape.grad(loss, &[x, scale]))
}

#[test]
fn parallel_blocks_give_the_same_bits_on_one_and_two_threads() {
    let mut rng = StdRng::seed_from_u64(7);
    let x = Tensor::randn(&[8, 32, 12, 12], &mut rng);
    let scale = Tensor::randn(&[1, 32, 1, 1], &mut rng);
    let on = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("a pool");
        pool.install(|| block(&x, &scale))
    };
    let (one, two) = (on(1), on(2));
    assert_eq!(one.0, two.0, "outputs differ between 1 and 2 threads");
    assert_eq!(one.1, two.1, "gradients differ between 1 and 2 threads");
}

#[test]
fn max_pooling_a_large_batch_equals_pooling_each_image() {
    let mut rng = StdRng::seed_from_u64(8);
    let x = Tensor::<f64>::randn(&[6, 32, 14, 14], &mut rng);
    let tape = Tape::new();
    let pooled = tape.constant(x.clone()).max_pool2d((2, 2), (2, 2), (0, 0)).value();
    let per_image = 32 * 14 * 14;
    let values = x.to_vec();
    let one_by_one: Vec<f64> = values
        .chunks(per_image)
        .flat_map(|image| {
            let image = tape.constant(Tensor::from_vec(&[1, 32, 14, 14], image.to_vec()));
            image.max_pool2d((2, 2), (2, 2), (0, 0)).value().to_vec()
        })
        .collect();
    assert_eq!(pooled.shape(), &[6, 32, 7, 7]);
    assert_eq!(pooled.to_vec(), one_by_one);
}
