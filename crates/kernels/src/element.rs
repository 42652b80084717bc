use crate::gemm::{Microkernel, SmallKernel};
use crate::Isa;
use std::fmt::Debug;
use std::ops::{Add, AddAssign, Mul, MulAssign};

/// A floating-point type the kernels are specialised for: `f32` and `f64`.
///
/// Sealed: the kernels hold a hand-written microkernel for each type.
///
/// # Examples
///
/// ```
/// use metagrad_kernels::{gemm, Element, MatRef};
///
/// // Code generic over both precisions: the dot product as a 1xn by nx1 product.
/// fn dot<T: Element>(x: &[T], y: &[T]) -> T {
///     let mut c = [T::ZERO];
///     gemm(MatRef::row_major(x, 1, x.len()), MatRef::row_major(y, y.len(), 1), &mut c);
///     c[0]
/// }
/// assert_eq!(dot(&[1.0f32, 2.0], &[3.0, 4.0]), 11.0);
/// assert_eq!(dot(&[1.0f64, 2.0, 3.0], &[1.0; 3]), 6.0);
/// assert_eq!((f64::ZERO, f64::ONE), (0.0, 1.0));
/// ```
pub trait Element:
    Copy
    + Send
    + Sync
    + Debug
    + PartialEq
    + PartialOrd
    + Add<Output = Self>
    + Mul<Output = Self>
    + AddAssign
    + MulAssign
    + sealed::Sealed
    + 'static
{
    /// Additive identity.
    const ZERO: Self;
    /// Multiplicative identity.
    const ONE: Self;
}

pub(crate) mod sealed {
    use super::*;

    /// Per-type kernel tables, kept out of the public API.
    ///
    /// # Examples
    ///
    /// A type outside this crate cannot implement [`Element`], even with every arithmetic
    /// bound met, because it cannot name this trait:
    ///
    /// ```compile_fail
    /// use metagrad_kernels::Element;
    /// use std::ops::{Add, AddAssign, Mul, MulAssign};
    ///
    /// #[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
    /// struct Fixed(f32);
    /// impl Add for Fixed { type Output = Fixed; fn add(self, o: Fixed) -> Fixed { Fixed(self.0 + o.0) } }
    /// impl Mul for Fixed { type Output = Fixed; fn mul(self, o: Fixed) -> Fixed { Fixed(self.0 * o.0) } }
    /// impl AddAssign for Fixed { fn add_assign(&mut self, o: Fixed) { self.0 += o.0 } }
    /// impl MulAssign for Fixed { fn mul_assign(&mut self, o: Fixed) { self.0 *= o.0 } }
    /// impl Element for Fixed { const ZERO: Fixed = Fixed(0.0); const ONE: Fixed = Fixed(1.0); }
    /// ```
    pub trait Sealed: Sized {
        /// The GEMM microkernel for an instruction set.
        fn microkernel(isa: Isa) -> Microkernel<Self>;
        /// The in-place kernel for small products, where the instruction set has one.
        fn small_kernel(isa: Isa) -> Option<SmallKernel<Self>>;
        /// Runs `f` with this thread's reusable buffer for packed blocks of `A` (large enough
        /// that allocating it per block would cost page faults every time).
        fn with_pack_buffer<R>(f: impl FnOnce(&mut Vec<Self>) -> R) -> R;
        /// Runs `f` with this thread's pool of scratch buffers (see `crate::scratch`).
        fn with_scratch_pool<R>(f: impl FnOnce(&mut Vec<Vec<Self>>) -> R) -> R;
        /// `out[i] = op(x[i])` for one block.
        fn unary_block(isa: Isa, op: crate::Unary, x: &[Self], out: &mut [Self]);
        /// Rows of `A` per packed block (a multiple of the microkernel's `mr`).
        const MC: usize;
    }
}

impl Element for f32 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
}

impl Element for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
}

impl sealed::Sealed for f32 {
    fn with_pack_buffer<R>(f: impl FnOnce(&mut Vec<Self>) -> R) -> R {
        thread_local! {
            static BUFFER: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        BUFFER.with_borrow_mut(f)
    }
    fn with_scratch_pool<R>(f: impl FnOnce(&mut Vec<Vec<Self>>) -> R) -> R {
        thread_local! {
            static POOL: std::cell::RefCell<Vec<Vec<f32>>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        POOL.with_borrow_mut(f)
    }
    fn unary_block(isa: Isa, op: crate::Unary, x: &[Self], out: &mut [Self]) {
        crate::elementwise::unary_block_f32(isa, op, x, out)
    }
    fn small_kernel(isa: Isa) -> Option<SmallKernel<Self>> {
        match isa {
            #[cfg(all(target_arch = "x86_64", feature = "simd"))]
            Isa::Avx2Fma if isa.is_supported() => Some(crate::gemm::small_avx2::gemm_f32),
            _ => None,
        }
    }
    const MC: usize = 144;
    fn microkernel(isa: Isa) -> Microkernel<Self> {
        match isa {
            #[cfg(all(target_arch = "x86_64", feature = "simd"))]
            Isa::Avx2Fma if isa.is_supported() => crate::gemm::avx2::F32_6X16,
            _ => crate::gemm::portable::microkernel::<f32, 6, 16>(),
        }
    }
}

impl sealed::Sealed for f64 {
    fn with_pack_buffer<R>(f: impl FnOnce(&mut Vec<Self>) -> R) -> R {
        thread_local! {
            static BUFFER: std::cell::RefCell<Vec<f64>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        BUFFER.with_borrow_mut(f)
    }
    fn with_scratch_pool<R>(f: impl FnOnce(&mut Vec<Vec<Self>>) -> R) -> R {
        thread_local! {
            static POOL: std::cell::RefCell<Vec<Vec<f64>>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        POOL.with_borrow_mut(f)
    }
    fn unary_block(_: Isa, op: crate::Unary, x: &[Self], out: &mut [Self]) {
        crate::elementwise::unary_block_f64(op, x, out)
    }
    fn small_kernel(isa: Isa) -> Option<SmallKernel<Self>> {
        match isa {
            #[cfg(all(target_arch = "x86_64", feature = "simd"))]
            Isa::Avx2Fma if isa.is_supported() => Some(crate::gemm::small_avx2::gemm_f64),
            _ => None,
        }
    }
    const MC: usize = 72;
    fn microkernel(isa: Isa) -> Microkernel<Self> {
        match isa {
            #[cfg(all(target_arch = "x86_64", feature = "simd"))]
            Isa::Avx2Fma if isa.is_supported() => crate::gemm::avx2::F64_6X8,
            _ => crate::gemm::portable::microkernel::<f64, 6, 8>(),
        }
    }
}
