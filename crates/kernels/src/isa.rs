//! Which instruction set the kernels run on, detected once at run time.

use std::sync::OnceLock;

/// An instruction set the kernels have code for.
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
    pub fn is_supported(self) -> bool {
        static BEST: OnceLock<Isa> = OnceLock::new();
        self == Isa::Portable || *BEST.get_or_init(Self::best_available) == self
    }

    /// Every instruction set that can run here (for tests that compare them).
    pub fn available() -> Vec<Isa> {
        let mut all = vec![Isa::Portable];
        if Self::best_available() == Isa::Avx2Fma {
            all.push(Isa::Avx2Fma);
        }
        all
    }
}
