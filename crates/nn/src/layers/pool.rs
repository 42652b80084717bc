//! Pooling and reshaping layers without parameters.

use crate::{Context, Module, ParamVars, Params};
use metagrad_autodiff::{Float, Var, Window2d};
use rand::rngs::StdRng;

/// 2-D max-pooling (gradients route to each window's arg-max).
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::{Tape, Tensor};
/// use metagrad_nn::layers::MaxPool2d;
/// use metagrad_nn::{Context, Module, Params};
///
/// let tape = Tape::<f64>::new();
/// // A 4x4 image holding 0, 1, ..., 15 row by row.
/// let x = tape.var(Tensor::from_vec(&[1, 1, 4, 4], (0..16).map(f64::from).collect()));
/// let y = MaxPool2d::new(2).forward(&Params::new().on(&tape), x, &mut Context::eval(Params::new()));
/// assert_eq!(y.shape(), vec![1, 1, 2, 2]);
/// // The largest entry of each 2x2 block is its bottom-right one...
/// assert_eq!(y.value().to_vec(), vec![5.0, 7.0, 13.0, 15.0]);
/// // ...and only those entries get a gradient.
/// let g = tape.grad(y.sum(), &[x])[0].to_vec();
/// assert!(g.iter().enumerate().all(|(i, &v)| v == if [5, 7, 13, 15].contains(&i) { 1.0 } else { 0.0 }));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct MaxPool2d {
    /// Window size.
    pub kernel: (usize, usize),
    /// Step between windows.
    pub stride: (usize, usize),
    /// Padding on each side (never wins the max).
    pub padding: (usize, usize),
}

impl MaxPool2d {
    /// A `k x k` window with stride `k`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    /// use metagrad_nn::layers::MaxPool2d;
    /// use metagrad_nn::{Context, Module, Params};
    ///
    /// let pool = MaxPool2d::new(3);
    /// assert_eq!((pool.kernel, pool.stride, pool.padding), ((3, 3), (3, 3), (0, 0)));
    /// // Overlapping 2x2 windows (stride 1) over a 3x3 image.
    /// let tape = Tape::<f64>::new();
    /// let x = tape.constant(Tensor::from_vec(&[1, 1, 3, 3], vec![1.0, 9.0, 2.0, 3.0, 4.0, 5.0, 8.0, 6.0, 7.0]));
    /// let overlapping = MaxPool2d { stride: (1, 1), ..MaxPool2d::new(2) };
    /// let y = overlapping.forward(&Params::new().on(&tape), x, &mut Context::eval(Params::new()));
    /// assert_eq!(y.value().to_vec(), vec![9.0, 9.0, 8.0, 7.0]);
    /// ```
    pub fn new(k: usize) -> Self {
        MaxPool2d { kernel: (k, k), stride: (k, k), padding: (0, 0) }
    }
}

impl<T: Float> Module<T> for MaxPool2d {
    fn init(&self, _: &mut StdRng) -> Params<T> {
        Params::new()
    }
    fn forward<'t>(&self, _: &ParamVars<'t, T>, x: Var<'t, T>, _: &mut Context<T>) -> Var<'t, T> {
        x.max_pool2d(self.kernel, self.stride, self.padding)
    }
}

/// 2-D average pooling: the mean of each window (padding counts as zeros), built as
/// `im2col` on each channel followed by a mean.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::{Tape, Tensor};
/// use metagrad_nn::layers::AvgPool2d;
/// use metagrad_nn::{Context, Module, Params};
///
/// let tape = Tape::<f64>::new();
/// // A 4x4 image holding 0, 1, ..., 15 row by row.
/// let x = tape.var(Tensor::from_vec(&[1, 1, 4, 4], (0..16).map(f64::from).collect()));
/// let y = AvgPool2d::new(2).forward(&Params::new().on(&tape), x, &mut Context::eval(Params::new()));
/// // The top-left block is (0 + 1 + 4 + 5) / 4 = 2.5, and so on.
/// assert_eq!(y.value().to_vec(), vec![2.5, 4.5, 10.5, 12.5]);
/// // Every pixel sits in one window, with weight 1/4.
/// assert_eq!(tape.grad(y.sum(), &[x])[0].to_vec(), vec![0.25; 16]);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct AvgPool2d {
    /// Window size.
    pub kernel: (usize, usize),
    /// Step between windows.
    pub stride: (usize, usize),
    /// Padding on each side.
    pub padding: (usize, usize),
}

impl AvgPool2d {
    /// A `k x k` window with stride `k`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_autodiff::{Tape, Tensor};
    /// use metagrad_nn::layers::AvgPool2d;
    /// use metagrad_nn::{Context, Module, Params};
    ///
    /// let pool = AvgPool2d::new(2);
    /// assert_eq!((pool.kernel, pool.stride, pool.padding), ((2, 2), (2, 2), (0, 0)));
    /// // With padding 1, each window of a 2x2 image of ones holds one pixel and three zeros.
    /// let padded = AvgPool2d { padding: (1, 1), ..pool };
    /// let tape = Tape::<f64>::new();
    /// let x = tape.constant(Tensor::ones(&[1, 1, 2, 2]));
    /// let y = padded.forward(&Params::new().on(&tape), x, &mut Context::eval(Params::new()));
    /// assert_eq!((y.shape(), y.value().to_vec()), (vec![1, 1, 2, 2], vec![0.25; 4]));
    /// ```
    pub fn new(k: usize) -> Self {
        AvgPool2d { kernel: (k, k), stride: (k, k), padding: (0, 0) }
    }
}

impl<T: Float> Module<T> for AvgPool2d {
    fn init(&self, _: &mut StdRng) -> Params<T> {
        Params::new()
    }
    fn forward<'t>(&self, _: &ParamVars<'t, T>, x: Var<'t, T>, _: &mut Context<T>) -> Var<'t, T> {
        let s = x.shape();
        assert_eq!(s.len(), 4, "AvgPool2d: input of shape {s:?} is not [N, C, H, W]");
        let window = Window2d::new(1, (s[2], s[3]), self.kernel, self.stride, self.padding);
        let (out_h, out_w) = window.output();
        // Each channel as its own one-channel image: columns [N*C, kh*kw, L], mean over taps.
        x.reshape(&[s[0] * s[1], 1, s[2], s[3]])
            .im2col(window)
            .mean_axes(&[1], false)
            .reshape(&[s[0], s[1], out_h, out_w])
    }
}

/// Global average pooling: the mean of every channel over its whole map,
/// `[N, C, H, W] -> [N, C]` (Lin, Chen & Yan 2014), whatever `H` and `W` are.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::{Tape, Tensor};
/// use metagrad_nn::layers::GlobalAvgPool;
/// use metagrad_nn::{Context, Module, Params};
///
/// let tape = Tape::<f64>::new();
/// // One image, two channels of 2x2: [1, 2, 3, 4] and [5, 6, 7, 8].
/// let x = tape.constant(Tensor::from_vec(&[1, 2, 2, 2], (1..=8).map(f64::from).collect()));
/// let y = GlobalAvgPool.forward(&Params::new().on(&tape), x, &mut Context::eval(Params::new()));
/// assert_eq!((y.shape(), y.value().to_vec()), (vec![1, 2], vec![2.5, 6.5]));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct GlobalAvgPool;

impl<T: Float> Module<T> for GlobalAvgPool {
    fn init(&self, _: &mut StdRng) -> Params<T> {
        Params::new()
    }
    fn forward<'t>(&self, _: &ParamVars<'t, T>, x: Var<'t, T>, _: &mut Context<T>) -> Var<'t, T> {
        let s = x.shape();
        assert_eq!(s.len(), 4, "GlobalAvgPool: input of shape {s:?} is not [N, C, H, W]");
        x.mean_axes(&[2, 3], false)
    }
}

/// Flattens all axes after the first: `[N, ...] -> [N, prod(...)]`.
///
/// # Examples
///
/// ```
/// use metagrad_autodiff::{Tape, Tensor};
/// use metagrad_nn::layers::Flatten;
/// use metagrad_nn::{Context, Module, Params};
///
/// let tape = Tape::<f64>::new();
/// let x = tape.constant(Tensor::from_vec(&[2, 3, 2, 2], (0..24).map(f64::from).collect()));
/// let y = Flatten.forward(&Params::new().on(&tape), x, &mut Context::eval(Params::new()));
/// assert_eq!(y.shape(), vec![2, 12]);
/// assert_eq!(y.value().to_vec(), x.value().to_vec()); // the values keep their order
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Flatten;

impl<T: Float> Module<T> for Flatten {
    fn init(&self, _: &mut StdRng) -> Params<T> {
        Params::new()
    }
    fn forward<'t>(&self, _: &ParamVars<'t, T>, x: Var<'t, T>, _: &mut Context<T>) -> Var<'t, T> {
        let s = x.shape();
        x.reshape(&[s[0], s[1..].iter().product()])
    }
}
