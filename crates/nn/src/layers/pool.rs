//! Pooling and reshaping layers without parameters.

use crate::{Context, Module, ParamVars, Params};
use metagrad_autodiff::{Float, Var, Window2d};
use rand::rngs::StdRng;

/// 2-D max-pooling (gradients route to each window's arg-max).
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
