//! Data-parallel iteration: rayon's when the `rayon` feature is on; without it, the same calls
//! run as plain iterators on the calling thread. Every use in this crate reduces in a fixed
//! order, so both builds give the same bits. Only the calls this crate makes are covered.

#[cfg(feature = "rayon")]
pub(crate) use rayon::prelude::*;
#[cfg(not(feature = "rayon"))]
pub(crate) use sequential::*;

#[cfg(not(feature = "rayon"))]
mod sequential {
    /// `par_iter`, `par_chunks` and `par_chunks_mut` on slices, as their sequential selves.
    pub(crate) trait ParallelSlice<T> {
        fn par_iter(&self) -> std::slice::Iter<'_, T>;
        fn par_chunks(&self, size: usize) -> std::slice::Chunks<'_, T>;
        fn par_chunks_mut(&mut self, size: usize) -> std::slice::ChunksMut<'_, T>;
    }

    impl<T> ParallelSlice<T> for [T] {
        fn par_iter(&self) -> std::slice::Iter<'_, T> {
            self.iter()
        }
        fn par_chunks(&self, size: usize) -> std::slice::Chunks<'_, T> {
            self.chunks(size)
        }
        fn par_chunks_mut(&mut self, size: usize) -> std::slice::ChunksMut<'_, T> {
            self.chunks_mut(size)
        }
    }

    /// `into_par_iter` as `into_iter`.
    pub(crate) trait IntoParallelIterator: IntoIterator + Sized {
        fn into_par_iter(self) -> Self::IntoIter {
            self.into_iter()
        }
    }

    impl<I: IntoIterator> IntoParallelIterator for I {}
}
