//! Which instruction set the kernels run on, detected once at run time.

use std::sync::OnceLock;

/// An instruction set the kernels have code for.
///
/// # Examples
///
/// ```
/// use metagrad_kernels::Isa;
///
/// // The portable path runs everywhere; the kernels use the best one this machine has.
/// assert!(Isa::Portable.is_supported());
/// assert!(Isa::available().contains(&Isa::detected()));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isa {
    /// Plain Rust, always compiled and tested; the compiler vectorises what it can for the
    /// target's baseline (SSE2 on x86_64, NEON on aarch64).
    Portable,
    /// x86_64 AVX2 with FMA: hand-written microkernels (`std::arch`).
    Avx2Fma,
}

impl Isa {
    /// The best instruction set this CPU supports and this build enables (feature `simd`).
    /// Set `METAGRAD_ISA=portable` to force the portable path.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_kernels::{gemm, Isa, MatRef};
    ///
    /// // The variable is read once per process, at the first call (here, before any kernel ran).
    /// std::env::set_var("METAGRAD_ISA", "portable");
    /// assert_eq!(Isa::detected(), Isa::Portable);
    /// // The products on the forced path are the same: [1 2] x [3; 4] = 11.
    /// let mut c = [0.0];
    /// gemm(MatRef::row_major(&[1.0, 2.0], 1, 2), MatRef::row_major(&[3.0, 4.0], 2, 1), &mut c);
    /// assert_eq!(c, [11.0]);
    /// ```
    pub fn detected() -> Isa {
        static DETECTED: OnceLock<Isa> = OnceLock::new();
        *DETECTED.get_or_init(|| {
            if std::env::var("METAGRAD_ISA").is_ok_and(|v| v.eq_ignore_ascii_case("portable")) {
                return Isa::Portable;
            }
            Self::best_available()
        })
    }

    fn best_available() -> Isa {
        #[cfg(all(target_arch = "x86_64", feature = "simd"))]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            return Isa::Avx2Fma;
        }
        Isa::Portable
    }

    /// True when this CPU can run this instruction set (and the build includes it). Every
    /// dispatch to hand-written SIMD checks this, so an `Isa` value built by hand can never
    /// run instructions the CPU lacks.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_kernels::Isa;
    ///
    /// assert!(Isa::Portable.is_supported());
    /// // AVX2 + FMA exactly when this CPU and build offer it.
    /// assert_eq!(Isa::Avx2Fma.is_supported(), Isa::available().contains(&Isa::Avx2Fma));
    /// assert!(Isa::detected().is_supported());
    /// ```
    pub fn is_supported(self) -> bool {
        static BEST: OnceLock<Isa> = OnceLock::new();
        self == Isa::Portable || *BEST.get_or_init(Self::best_available) == self
    }

    /// Every instruction set that can run here (for tests that compare them).
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_kernels::Isa;
    ///
    /// std::env::remove_var("METAGRAD_ISA"); // read at the first call to `detected`
    /// let all = Isa::available();
    /// // The portable path first, and only what this CPU supports.
    /// assert_eq!(all[0], Isa::Portable);
    /// assert!(all.iter().all(|isa| isa.is_supported()));
    /// // Without METAGRAD_ISA, the kernels pick the last (best) of them.
    /// assert_eq!(Isa::detected(), *all.last().unwrap());
    /// ```
    pub fn available() -> Vec<Isa> {
        let mut all = vec![Isa::Portable];
        if Self::best_available() == Isa::Avx2Fma {
            all.push(Isa::Avx2Fma);
        }
        all
    }
}
