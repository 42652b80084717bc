//! Reusable scratch buffers, one pool per thread and element type.
//!
//! A convolution block's column matrix and products, and a GEMM's packed `B`, are large
//! (up to a few MB) and short-lived. Allocated fresh, each is zeroed first, and with an
//! allocator that returns pages to the system, faulted in again: together about a tenth of a
//! conv-4 layer's time. Drawn from the pool instead, a buffer keeps its memory between calls.
//! Its contents are whatever the last user left: callers overwrite every value they read.

use crate::Element;

/// A buffer from this thread's pool (empty when the pool is), for [`give_back`] later.
pub(crate) fn take<T: Element>() -> Vec<T> {
    T::with_scratch_pool(|pool| pool.pop()).unwrap_or_default()
}

/// Returns a buffer to this thread's pool. The pool holds at most a few, so that a thread
/// never keeps more than its deepest nesting of scratch use needs.
pub(crate) fn give_back<T: Element>(buffer: Vec<T>) {
    const MAX_POOLED: usize = 4;
    T::with_scratch_pool(|pool| {
        if pool.len() < MAX_POOLED {
            pool.push(buffer);
        }
    });
}

/// Runs `f` on a scratch slice of `len` values with unspecified contents, which `f` must
/// overwrite before reading.
pub(crate) fn with_scratch<T: Element, R>(len: usize, f: impl FnOnce(&mut [T]) -> R) -> R {
    let mut buffer = take::<T>();
    if buffer.len() < len {
        buffer.resize(len, T::ZERO);
    }
    let result = f(&mut buffer[..len]);
    give_back(buffer);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Nested uses get distinct buffers, and a returned buffer is reused with its memory.
    #[test]
    fn nested_scratch_is_distinct_and_memory_is_kept() {
        let (outer, inner) = with_scratch::<f32, _>(100, |a| {
            a.fill(1.0);
            let inner = with_scratch::<f32, _>(50, |b| {
                b.fill(2.0);
                b.as_ptr() as usize
            });
            assert!(a.iter().all(|&v| v == 1.0), "the inner buffer is another one");
            (a.as_ptr() as usize, inner)
        });
        assert_ne!(outer, inner);
        let again = with_scratch::<f32, _>(80, |a| a.as_ptr() as usize);
        assert!(again == outer || again == inner, "a pooled buffer is reused");
    }
}
