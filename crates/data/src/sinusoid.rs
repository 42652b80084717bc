//! The sinusoid regression task family of the MAML paper (Finn, Abbeel & Levine 2017, §5.1):
//! each task is `y = A sin(x - phi)` with amplitude `A ~ U[0.1, 5]` and phase
//! `phi ~ U[0, pi]`; inputs are drawn from `x ~ U[-5, 5]`.

use ndarray::Array2;
use rand::Rng;

/// One sinusoid task.
///
/// # Examples
///
/// ```
/// use metagrad_data::sinusoid::SinusoidTask;
///
/// let task = SinusoidTask { amplitude: 2.0, phase: std::f64::consts::FRAC_PI_2 };
/// // 2 sin(x - pi/2) = -2 cos(x): -2 at 0, 2 at pi.
/// assert!((task.eval(0.0) + 2.0).abs() < 1e-12);
/// assert!((task.eval(std::f64::consts::PI) - 2.0).abs() < 1e-12);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SinusoidTask {
    /// Amplitude `A`.
    pub amplitude: f64,
    /// Phase `phi`.
    pub phase: f64,
}

/// Points of one task: inputs and targets, each `[points, 1]`.
///
/// # Examples
///
/// ```
/// use metagrad_data::sinusoid::SinusoidTask;
///
/// let points = SinusoidTask { amplitude: 1.0, phase: 0.0 }.points_at(&[0.0, 1.0, 2.0]);
/// // One column each, one row per point: ready for a `[N, 1]` regression network.
/// assert_eq!((points.x.dim(), points.y.dim()), ((3, 1), (3, 1)));
/// assert!((f64::from(points.y[[1, 0]]) - 1f64.sin()).abs() < 1e-6);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Points {
    /// Inputs `x`, shape `[points, 1]`.
    pub x: Array2<f32>,
    /// Targets `y = A sin(x - phi)`, shape `[points, 1]`.
    pub y: Array2<f32>,
}

impl SinusoidTask {
    /// Draws a task: `A ~ U[0.1, 5]`, `phi ~ U[0, pi]`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_data::sinusoid::SinusoidTask;
    /// use rand::{rngs::StdRng, SeedableRng};
    ///
    /// let mut rng = StdRng::seed_from_u64(0);
    /// let task = SinusoidTask::sample(&mut rng);
    /// assert!((0.1..5.0).contains(&task.amplitude));
    /// assert!((0.0..std::f64::consts::PI).contains(&task.phase));
    /// // The same seed draws the same task.
    /// assert_eq!(SinusoidTask::sample(&mut StdRng::seed_from_u64(0)), task);
    /// ```
    pub fn sample(rng: &mut impl Rng) -> Self {
        SinusoidTask { amplitude: rng.gen_range(0.1..5.0), phase: rng.gen_range(0.0..std::f64::consts::PI) }
    }

    /// The task's function.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_data::sinusoid::SinusoidTask;
    ///
    /// let task = SinusoidTask { amplitude: 3.0, phase: 1.0 };
    /// // Zero at x = phi, the amplitude a quarter period later.
    /// assert_eq!(task.eval(1.0), 0.0);
    /// assert!((task.eval(1.0 + std::f64::consts::FRAC_PI_2) - 3.0).abs() < 1e-12);
    /// ```
    pub fn eval(&self, x: f64) -> f64 {
        self.amplitude * (x - self.phase).sin()
    }

    /// `count` points with `x ~ U[-5, 5]`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_data::sinusoid::SinusoidTask;
    /// use rand::{rngs::StdRng, SeedableRng};
    ///
    /// let task = SinusoidTask { amplitude: 1.5, phase: 0.5 };
    /// let p = task.points(10, &mut StdRng::seed_from_u64(1));
    /// assert_eq!(p.x.dim(), (10, 1));
    /// for (x, y) in p.x.iter().zip(&p.y) {
    ///     assert!((-5.0..5.0).contains(x));
    ///     assert!((f64::from(*y) - task.eval(f64::from(*x))).abs() < 1e-5);
    /// }
    /// ```
    pub fn points(&self, count: usize, rng: &mut impl Rng) -> Points {
        let xs: Vec<f64> = (0..count).map(|_| rng.gen_range(-5.0..5.0)).collect();
        self.points_at(&xs)
    }

    /// Points at the given inputs (an evaluation grid, say).
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_data::sinusoid::SinusoidTask;
    ///
    /// // An evaluation grid of 101 points over [-5, 5].
    /// let grid: Vec<f64> = (0..=100).map(|i| -5.0 + 0.1 * f64::from(i)).collect();
    /// let task = SinusoidTask { amplitude: 2.0, phase: 0.0 };
    /// let p = task.points_at(&grid);
    /// assert_eq!(p.x.dim(), (101, 1));
    /// assert_eq!((p.x[[0, 0]], p.y[[50, 0]]), (-5.0, 0.0));
    /// ```
    pub fn points_at(&self, xs: &[f64]) -> Points {
        let x = Array2::from_shape_fn((xs.len(), 1), |(i, _)| xs[i] as f32);
        let y = Array2::from_shape_fn((xs.len(), 1), |(i, _)| self.eval(xs[i]) as f32);
        Points { x, y }
    }

    /// A task with `support` and `query` points drawn independently.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_data::sinusoid::SinusoidTask;
    /// use rand::{rngs::StdRng, SeedableRng};
    ///
    /// let mut rng = StdRng::seed_from_u64(2);
    /// let task = SinusoidTask::sample(&mut rng);
    /// // K = 5 points to adapt on, 10 others to evaluate the adapted model.
    /// let (support, query) = task.support_query(5, 10, &mut rng);
    /// assert_eq!((support.x.nrows(), query.x.nrows()), (5, 10));
    /// assert!(query.x.iter().all(|x| !support.x.iter().any(|s| s == x)));
    /// ```
    pub fn support_query(&self, support: usize, query: usize, rng: &mut impl Rng) -> (Points, Points) {
        (self.points(support, rng), self.points(query, rng))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn tasks_and_points_follow_the_paper_ranges() {
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..1000 {
            let task = SinusoidTask::sample(&mut rng);
            assert!((0.1..5.0).contains(&task.amplitude) && (0.0..std::f64::consts::PI).contains(&task.phase));
            let p = task.points(10, &mut rng);
            assert_eq!((p.x.dim(), p.y.dim()), ((10, 1), (10, 1)));
            for (x, y) in p.x.iter().zip(&p.y) {
                assert!((-5.0..5.0).contains(x));
                assert!((f64::from(*y) - task.eval(f64::from(*x))).abs() < 1e-5);
            }
        }
    }

    #[test]
    fn same_seed_same_tasks() {
        let draw = |seed| {
            let mut rng = StdRng::seed_from_u64(seed);
            let task = SinusoidTask::sample(&mut rng);
            (task, task.support_query(5, 7, &mut rng))
        };
        assert_eq!(draw(3), draw(3));
        assert_ne!(draw(3).0, draw(4).0);
    }
}
