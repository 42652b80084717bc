use super::*;
use proptest::prelude::*;

/// Deterministic pseudo-random values in [-1, 1).
fn values<T: Element + From<f32>>(len: usize, seed: u64) -> Vec<T> {
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            T::from(((state >> 40) as f32) / (1u64 << 23) as f32 - 1.0)
        })
        .collect()
}

/// The reference: three loops, sums in f64.
fn naive<T: Element + Into<f64>>(alpha: f64, a: &MatRef<'_, T>, b: &MatRef<'_, T>, beta: f64, c: &[f64]) -> Vec<f64> {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    (0..m * n)
        .map(|ij| {
            let (i, j) = (ij / n, ij % n);
            let dot: f64 = (0..k).map(|p| a.at(i, p).into() * b.at(p, j).into()).sum();
            alpha * dot + if beta == 0.0 { 0.0 } else { beta * c[ij] }
        })
        .collect()
}

/// One randomised case: views with any transposition and padding between rows.
#[derive(Debug, Clone)]
struct Case {
    m: usize,
    k: usize,
    n: usize,
    transpose_a: bool,
    transpose_b: bool,
    pad: usize,
    alpha: f32,
    beta: f32,
    seed: u64,
}

fn case(max: usize) -> impl Strategy<Value = Case> {
    (
        1..max,
        1..max,
        1..max,
        any::<bool>(),
        any::<bool>(),
        0usize..3,
        prop_oneof![Just(1.0f32), -2.0f32..2.0],
        prop_oneof![Just(0.0f32), Just(1.0f32), -1.0f32..1.0],
        any::<u64>(),
    )
        .prop_map(|(m, k, n, transpose_a, transpose_b, pad, alpha, beta, seed)| Case {
            m,
            k,
            n,
            transpose_a,
            transpose_b,
            pad,
            alpha,
            beta,
            seed,
        })
}

/// Runs a case on one ISA and returns the largest error relative to sum |a||b| (the scale of
/// rounding error in a dot product).
fn run_case<T: Element + From<f32> + Into<f64>>(isa: Isa, case: &Case) -> f64 {
    let Case { m, k, n, pad, .. } = *case;
    // A stored as m x k (or k x m when transposed), each row padded by `pad` elements.
    let (ar, ac) = if case.transpose_a { (k, m) } else { (m, k) };
    let (br, bc) = if case.transpose_b { (n, k) } else { (k, n) };
    let a_data: Vec<T> = values(ar * (ac + pad), case.seed);
    let b_data: Vec<T> = values(br * (bc + pad), case.seed ^ 1);
    let mut a = MatRef::new(&a_data, ar, ac, ac + pad, 1);
    let mut b = MatRef::new(&b_data, br, bc, bc + pad, 1);
    if case.transpose_a {
        a = a.t();
    }
    if case.transpose_b {
        b = b.t();
    }
    let ldc = n + pad;
    let mut c: Vec<T> = values(m * ldc, case.seed ^ 2);
    let c_before: Vec<f64> = (0..m * n).map(|ij| c[(ij / n) * ldc + ij % n].into()).collect();
    let (alpha, beta) = (T::from(case.alpha), T::from(case.beta));
    let want = naive(alpha.into(), &a, &b, beta.into(), &c_before);
    gemm_on(isa, alpha, a, b, beta, MatMut::new(&mut c, m, n, ldc));
    let mut worst: f64 = 0.0;
    for ij in 0..m * n {
        let (i, j) = (ij / n, ij % n);
        let scale: f64 = (0..k).map(|p| (a.at(i, p).into() * b.at(p, j).into()).abs()).sum::<f64>()
            * f64::from(case.alpha.abs())
            + f64::from(case.beta.abs()) * c_before[ij].abs()
            + 1e-30;
        let got: f64 = c[i * ldc + j].into();
        worst = worst.max((got - want[ij]).abs() / scale);
    }
    worst
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Small sizes cover every edge (1, primes, partial tiles) on both paths.
    #[test]
    fn matches_naive_small(case in case(40)) {
        for isa in Isa::available() {
            let e32 = run_case::<f32>(isa, &case);
            prop_assert!(e32 <= 1e-5, "f32 {isa:?}: relative error {e32}");
            let e64 = run_case::<f64>(isa, &case);
            prop_assert!(e64 <= 1e-13, "f64 {isa:?}: relative error {e64}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// Sizes up to 300 cover the packed path, several KC blocks and partial MC blocks.
    #[test]
    fn matches_naive_up_to_300(case in case(300)) {
        for isa in Isa::available() {
            let e32 = run_case::<f32>(isa, &case);
            prop_assert!(e32 <= 1e-5, "f32 {isa:?}: relative error {e32}");
            let e64 = run_case::<f64>(isa, &case);
            prop_assert!(e64 <= 1e-13, "f64 {isa:?}: relative error {e64}");
        }
    }
}

#[test]
fn large_primes_on_the_packed_path() {
    // 263 > KC and > MC, and prime, so every block edge is partial.
    let case =
        Case { m: 263, k: 263, n: 263, transpose_a: true, transpose_b: false, pad: 1, alpha: 0.5, beta: 0.25, seed: 3 };
    for isa in Isa::available() {
        assert!(run_case::<f32>(isa, &case) <= 1e-5);
        assert!(run_case::<f64>(isa, &case) <= 1e-13);
    }
}

#[test]
fn beta_zero_ignores_nan_in_c() {
    let a = [1.0f64; 4];
    let mut c = [f64::NAN; 4];
    gemm_ex(1.0, MatRef::row_major(&a, 2, 2), MatRef::row_major(&a, 2, 2), 0.0, MatMut::row_major(&mut c, 2, 2));
    assert_eq!(c, [2.0; 4]);
}

/// The packed path with beta = 0 writes C without reading it: NaN there must not leak in,
/// on any instruction set, in full tiles or edge tiles, or past the first block of k.
#[test]
fn beta_zero_ignores_nan_in_c_on_the_packed_path() {
    let (m, k, n) = (70, 300, 75);
    let a: Vec<f64> = (0..m * k).map(|i| (i % 7) as f64 - 3.0).collect();
    let b: Vec<f64> = (0..k * n).map(|i| (i % 5) as f64 - 2.0).collect();
    for isa in Isa::available() {
        let mut c = vec![f64::NAN; m * n];
        gemm_on(
            isa,
            1.0,
            MatRef::row_major(&a, m, k),
            MatRef::row_major(&b, k, n),
            0.0,
            MatMut::row_major(&mut c, m, n),
        );
        for (ij, &got) in c.iter().enumerate() {
            let (i, j) = (ij / n, ij % n);
            let want: f64 = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
            assert_eq!(got, want, "{isa:?} at ({i}, {j})");
        }
    }
}

#[test]
fn empty_inner_dimension_gives_zeros() {
    let mut c = [1.0f32; 6];
    gemm(MatRef::row_major(&[], 2, 0), MatRef::row_major(&[], 0, 3), &mut c);
    assert_eq!(c, [0.0; 6]);
}

#[test]
#[should_panic(expected = "inner dimensions differ: A is 2x3, B is 2x2")]
fn mismatched_shapes_panic_with_both_shapes() {
    let mut c = [0.0f64; 4];
    gemm(MatRef::row_major(&[0.0; 6], 2, 3), MatRef::row_major(&[0.0; 4], 2, 2), &mut c);
}

#[test]
fn batched_matches_one_by_one() {
    let (m, k, n, batch) = (5, 7, 3, 4);
    let a: Vec<f64> = values(batch * m * k, 1);
    let b: Vec<f64> = values(batch * k * n, 2);
    let a_views: Vec<_> = a.chunks(m * k).map(|x| MatRef::row_major(x, m, k)).collect();
    let b_views: Vec<_> = b.chunks(k * n).map(|x| MatRef::row_major(x, k, n)).collect();
    let mut c = vec![0.0; batch * m * n];
    gemm_batched(&a_views, &b_views, &mut c);
    for i in 0..batch {
        let mut one = vec![0.0; m * n];
        gemm(a_views[i], b_views[i], &mut one);
        assert_eq!(&c[i * m * n..(i + 1) * m * n], &one[..]);
    }
}

#[cfg(feature = "rayon")]
#[test]
fn same_bits_with_one_thread_or_two() {
    // (64, 300, 700) takes the path that splits columns, not rows, between the threads.
    for (m, k, n) in [(97, 301, 53), (300, 300, 300), (25, 40, 40), (64, 300, 700)] {
        let a: Vec<f32> = values(m * k, 5);
        let b: Vec<f32> = values(k * n, 6);
        let run = || {
            let mut c = vec![0.0f32; m * n];
            gemm(MatRef::row_major(&a, m, k), MatRef::row_major(&b, k, n).t().t(), &mut c);
            c
        };
        let pool = |threads| rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        let one = pool(1).install(run);
        let two = pool(2).install(run);
        assert!(one.iter().zip(&two).all(|(x, y)| x.to_bits() == y.to_bits()), "{m}x{k}x{n}");
    }
}

#[test]
#[should_panic(expected = "overflows the address space")]
fn overflowing_strides_are_rejected() {
    let c = [0.0f32; 16];
    let _ = MatRef::new(&c, 2, 2, usize::MAX, 1);
}

#[test]
#[should_panic(expected = "overflows the address space")]
fn overflowing_output_strides_are_rejected() {
    let mut c = [0.0f32; 16];
    let _ = MatMut::new(&mut c, 2, 16, usize::MAX - 14);
}

#[test]
#[should_panic(expected = "product 0 has inner dimensions 3 and 5")]
fn batched_checks_inner_dimensions_even_for_empty_results() {
    let (a, b) = ([0.0f64; 0], [0.0f64; 10]);
    gemm_batched(&[MatRef::row_major(&a, 0, 3)], &[MatRef::row_major(&b, 5, 2)], &mut []);
}
