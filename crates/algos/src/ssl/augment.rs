//! Seeded random views of small grey images (`[n, channels, h, w]` tensors, ink high,
//! background 0), the data side of the view-based methods.
//!
//! One affine map per image combines a random resized crop, a rotation, a shear and a
//! translation; the output pixel at normalised position `u` (in `[-1, 1]^2`) reads the input
//! at `A u + c` by bilinear interpolation, with zeros outside the image:
//!
//! ```text
//! A = R(theta) * [[1, shear], [0, 1]] * diag(s_x, s_y),   c = crop centre + translation,
//! ```
//!
//! where the crop keeps a fraction `scale` of the area with aspect ratio `r`
//! (`s_x = sqrt(scale r)`, `s_y = sqrt(scale / r)`, as in SimCLR's random resized crop,
//! Chen et al. 2020). Then Gaussian noise is added and, with some probability, a random
//! rectangle is erased (Zhong et al. 2020). Image `i` draws from a generator seeded by
//! `(seed, i)`, so views are identical whatever the thread count.

use super::stream;
use crate::par::*;
use metagrad_autodiff::{Float, Tensor};
use rand::Rng;
use rand_distr::{Distribution, Normal};

/// A distribution of views. Every range is sampled uniformly; [`Augment::none`] is the
/// identity.
///
/// # Examples
///
/// ```
/// use metagrad_algos::ssl::Augment;
/// use metagrad_autodiff::Tensor;
///
/// let images = Tensor::<f64>::zeros(&[3, 1, 4, 4]);
/// // Noise only: same shape, the blank images are no longer blank, and a seed repeats its views.
/// let noisy = Augment { noise_std: 0.1, ..Augment::none() };
/// let view = noisy.apply(&images, 7);
/// assert_eq!(view.shape(), &[3, 1, 4, 4]);
/// assert!(view.to_vec().iter().any(|&v| v != 0.0));
/// assert_eq!(noisy.apply(&images, 7), view);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Augment {
    /// The fraction of the image area a crop keeps, `(low, high)`; `(1, 1)` for no crop.
    pub crop_scale: (f64, f64),
    /// The crop's aspect ratio range, `(low, high)` (sampled log-uniformly).
    pub crop_ratio: (f64, f64),
    /// The largest rotation, in degrees either way.
    pub max_rotation_degrees: f64,
    /// The largest shear factor either way.
    pub max_shear: f64,
    /// The largest translation, as a fraction of the image side, either way.
    pub max_translation: f64,
    /// The standard deviation of additive Gaussian noise.
    pub noise_std: f64,
    /// The probability of erasing one random rectangle.
    pub erase_probability: f64,
    /// The erased rectangle's area as a fraction of the image, `(low, high)`.
    pub erase_scale: (f64, f64),
}

impl Augment {
    /// No change at all.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::ssl::Augment;
    /// use metagrad_autodiff::Tensor;
    ///
    /// let images = Tensor::from_vec(&[1, 1, 2, 2], vec![0.0f64, 0.25, 0.5, 1.0]);
    /// // The identity, whatever the seed.
    /// assert_eq!(Augment::none().apply(&images, 123), images);
    /// ```
    pub fn none() -> Self {
        Augment {
            crop_scale: (1.0, 1.0),
            crop_ratio: (1.0, 1.0),
            max_rotation_degrees: 0.0,
            max_shear: 0.0,
            max_translation: 0.0,
            noise_std: 0.0,
            erase_probability: 0.0,
            erase_scale: (0.0, 0.0),
        }
    }

    /// Views for digits and characters: crops keeping 40-100% of the area, rotations up to
    /// 15 degrees, shear up to 0.2, shifts up to 10%, noise 0.05, and a 25% chance of
    /// erasing 2-15% of the image. Strong enough that two views of one digit differ more than
    /// two digits of one class often do, which is what the view-based methods need.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::ssl::Augment;
    /// use metagrad_autodiff::Tensor;
    ///
    /// let augment = Augment::for_small_images();
    /// assert_eq!((augment.crop_scale, augment.max_rotation_degrees), ((0.4, 1.0), 15.0));
    /// // A 6x6 square of ink: two seeds give two different views.
    /// let images = Tensor::from_vec(&[1, 1, 6, 6], (0..36).map(|i| if (1..5).contains(&(i % 6)) && (6..30).contains(&i) { 1.0f32 } else { 0.0 }).collect());
    /// assert_ne!(augment.apply(&images, 1), augment.apply(&images, 2));
    /// ```
    pub fn for_small_images() -> Self {
        Augment {
            crop_scale: (0.4, 1.0),
            crop_ratio: (0.75, 4.0 / 3.0),
            max_rotation_degrees: 15.0,
            max_shear: 0.2,
            max_translation: 0.1,
            noise_std: 0.05,
            erase_probability: 0.25,
            erase_scale: (0.02, 0.15),
        }
    }

    /// One view of every image of `images` (`[n, channels, h, w]`), seeded by `seed`. Pixels
    /// are computed in `f32` whatever `T` is.
    ///
    /// # Panics
    /// If `images` is not of rank 4, a range is inverted, a crop scale or ratio is not
    /// positive, a `max_*` field is negative, or a probability is outside `[0, 1]`.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_algos::ssl::Augment;
    /// use metagrad_autodiff::Tensor;
    /// use rand::{rngs::StdRng, SeedableRng};
    ///
    /// let images = Tensor::<f64>::randn(&[3, 1, 4, 4], &mut StdRng::seed_from_u64(0));
    /// let augment = Augment::for_small_images();
    /// let all = augment.apply(&images, 9).to_vec();
    /// // Image i's view depends on (seed, i) only: the first image alone gets the same view.
    /// let first = Tensor::from_vec(&[1, 1, 4, 4], images.to_vec()[..16].to_vec());
    /// assert_eq!(augment.apply(&first, 9).to_vec(), all[..16].to_vec());
    /// ```
    pub fn apply<T: Float>(&self, images: &Tensor<T>, seed: u64) -> Tensor<T> {
        let shape = images.shape().to_vec();
        assert_eq!(shape.len(), 4, "Augment::apply: images of shape {shape:?} are not [n, channels, h, w]");
        for (what, (low, high)) in
            [("crop_scale", self.crop_scale), ("crop_ratio", self.crop_ratio), ("erase_scale", self.erase_scale)]
        {
            assert!(low <= high, "Augment: {what} range ({low}, {high}) is inverted");
        }
        assert!(
            self.crop_scale.0 > 0.0 && self.crop_ratio.0 > 0.0,
            "Augment: crop_scale {:?} and crop_ratio {:?} must be positive",
            self.crop_scale,
            self.crop_ratio
        );
        for (what, value) in [
            ("max_rotation_degrees", self.max_rotation_degrees),
            ("max_shear", self.max_shear),
            ("max_translation", self.max_translation),
            ("noise_std", self.noise_std),
        ] {
            assert!(value.is_finite() && value >= 0.0, "Augment: {what} = {value} must be finite and non-negative");
        }
        assert!(
            (0.0..=1.0).contains(&self.erase_probability),
            "Augment: erase_probability = {} is not in [0, 1]",
            self.erase_probability
        );
        let per_image = shape[1] * shape[2] * shape[3];
        let input: Vec<f32> = images.to_vec().iter().map(|v| v.to_f32().unwrap_or(0.0)).collect();
        let mut output = vec![0f32; input.len()];
        output
            .par_chunks_mut(per_image.max(1))
            .zip(input.par_chunks(per_image.max(1)))
            .enumerate()
            .for_each(|(i, (out, image))| self.view(image, out, (shape[1], shape[2], shape[3]), seed, i as u64));
        Tensor::from_vec(&shape, output.into_iter().map(|v| T::of(f64::from(v))).collect())
    }

    fn view(&self, image: &[f32], out: &mut [f32], (channels, h, w): (usize, usize, usize), seed: u64, index: u64) {
        let mut rng = stream(seed, index);
        let uniform = |rng: &mut rand::rngs::StdRng, (low, high): (f64, f64)| {
            if high > low {
                rng.gen_range(low..=high)
            } else {
                low
            }
        };
        let scale = uniform(&mut rng, self.crop_scale);
        let ratio = uniform(&mut rng, (self.crop_ratio.0.ln(), self.crop_ratio.1.ln())).exp();
        let (sx, sy) = (((scale * ratio).sqrt()).min(1.0), ((scale / ratio).sqrt()).min(1.0));
        // The crop's centre may move as far as keeps the crop inside the image.
        let cx = uniform(&mut rng, (-(1.0 - sx), 1.0 - sx));
        let cy = uniform(&mut rng, (-(1.0 - sy), 1.0 - sy));
        let theta = uniform(&mut rng, (-self.max_rotation_degrees, self.max_rotation_degrees)).to_radians();
        let shear = uniform(&mut rng, (-self.max_shear, self.max_shear));
        let tx = 2.0 * uniform(&mut rng, (-self.max_translation, self.max_translation));
        let ty = 2.0 * uniform(&mut rng, (-self.max_translation, self.max_translation));
        // A = R * S * D, with D = diag(sx, sy) and S = [[1, shear], [0, 1]].
        let (cos, sin) = (theta.cos(), theta.sin());
        let a = [[cos * sx, (cos * shear - sin) * sy], [sin * sx, (sin * shear + cos) * sy]];
        let (ox, oy) = (cx + tx, cy + ty);
        let to_unit = |k: usize, size: usize| if size > 1 { 2.0 * k as f64 / (size - 1) as f64 - 1.0 } else { 0.0 };
        let to_pixel = |u: f64, size: usize| if size > 1 { (u + 1.0) * (size - 1) as f64 / 2.0 } else { 0.0 };
        for c in 0..channels {
            let plane = &image[c * h * w..(c + 1) * h * w];
            for y in 0..h {
                for x in 0..w {
                    let (u, v) = (to_unit(x, w), to_unit(y, h));
                    let sx_in = to_pixel(a[0][0] * u + a[0][1] * v + ox, w);
                    let sy_in = to_pixel(a[1][0] * u + a[1][1] * v + oy, h);
                    out[c * h * w + y * w + x] = bilinear(plane, h, w, sy_in, sx_in);
                }
            }
        }
        if self.noise_std > 0.0 {
            let normal = Normal::new(0.0, self.noise_std).expect("a finite standard deviation");
            for v in out.iter_mut() {
                *v += normal.sample(&mut rng) as f32;
            }
        }
        if self.erase_probability > 0.0 && rng.gen_bool(self.erase_probability) {
            let area = uniform(&mut rng, self.erase_scale) * (h * w) as f64;
            let aspect = uniform(&mut rng, (0.3f64.ln(), (1.0f64 / 0.3).ln())).exp();
            let eh = ((area * aspect).sqrt().round() as usize).clamp(1, h);
            let ew = ((area / aspect).sqrt().round() as usize).clamp(1, w);
            let (top, left) = (rng.gen_range(0..=h - eh), rng.gen_range(0..=w - ew));
            for c in 0..channels {
                for y in top..top + eh {
                    out[c * h * w + y * w + left..c * h * w + y * w + left + ew].fill(0.0);
                }
            }
        }
    }
}

/// The plane's value at fractional pixel `(y, x)`, zero outside.
fn bilinear(plane: &[f32], h: usize, w: usize, y: f64, x: f64) -> f32 {
    let (y0, x0) = (y.floor(), x.floor());
    let (fy, fx) = ((y - y0) as f32, (x - x0) as f32);
    let at = |yy: f64, xx: f64| -> f32 {
        if yy < 0.0 || xx < 0.0 || yy >= h as f64 || xx >= w as f64 {
            0.0
        } else {
            plane[yy as usize * w + xx as usize]
        }
    };
    let top = at(y0, x0) * (1.0 - fx) + at(y0, x0 + 1.0) * fx;
    let bottom = at(y0 + 1.0, x0) * (1.0 - fx) + at(y0 + 1.0, x0 + 1.0) * fx;
    top * (1.0 - fy) + bottom * fy
}

#[cfg(test)]
mod tests {
    use super::*;

    fn images() -> Tensor<f32> {
        Tensor::from_vec(&[3, 1, 6, 6], (0..108).map(|v| (v % 7) as f32 / 7.0).collect())
    }

    #[test]
    fn none_is_the_identity() {
        let x = images();
        assert_eq!(Augment::none().apply(&x, 3).to_vec(), x.to_vec());
    }

    #[test]
    fn views_are_seeded_and_differ_between_images_and_seeds() {
        let x = images();
        let a = Augment::for_small_images();
        assert_eq!(a.apply(&x, 5).to_vec(), a.apply(&x, 5).to_vec());
        assert_ne!(a.apply(&x, 5).to_vec(), a.apply(&x, 6).to_vec());
        let same = Tensor::from_vec(&[2, 1, 6, 6], x.to_vec()[..36].iter().chain(&x.to_vec()[..36]).copied().collect());
        let views = a.apply(&same, 1).to_vec();
        assert_ne!(views[..36], views[36..], "two copies of one image get different views");
    }

    /// The ink's centre of mass `(y, x)` relative to the image centre, and its total.
    fn ink(pixels: &[f32], side: usize) -> (f64, f64, f64) {
        let c = (side - 1) as f64 / 2.0;
        let total: f64 = pixels.iter().map(|&v| f64::from(v)).sum();
        let (mut y, mut x) = (0.0, 0.0);
        for (k, &v) in pixels.iter().enumerate() {
            y += f64::from(v) * ((k / side) as f64 - c);
            x += f64::from(v) * ((k % side) as f64 - c);
        }
        (y / total, x / total, total)
    }

    #[test]
    fn rotations_keep_the_ink_at_its_distance_from_the_centre() {
        // A 3x3 blob centred two pixels right of the centre of a 9x9 image.
        let mut pixels = vec![0.0f32; 81];
        for y in 3..6 {
            for x in 5..8 {
                pixels[y * 9 + x] = 1.0;
            }
        }
        let x = Tensor::from_vec(&[1, 1, 9, 9], pixels);
        let turn = Augment { max_rotation_degrees: 60.0, ..Augment::none() };
        let mut angles = Vec::new();
        for seed in 0..8 {
            let (y, x, total) = ink(&turn.apply(&x, seed).to_vec(), 9);
            assert!(((y * y + x * x).sqrt() - 2.0).abs() < 0.15, "seed {seed}: centre moved to ({y}, {x})");
            assert!((total - 9.0).abs() < 0.5, "seed {seed}: ink {total}, want about 9");
            assert!(y.atan2(x).abs() <= 60f64.to_radians() + 0.05);
            angles.push(y.atan2(x));
        }
        assert!(angles.iter().any(|a| a.abs() > 0.3), "the angles vary: {angles:?}");
    }

    #[test]
    fn a_crop_of_a_quarter_of_the_area_zooms_in_twice() {
        // A centred 3x3 blob of a 17x17 image; a centred crop of half the side doubles it.
        let mut pixels = vec![0.0f32; 289];
        for y in 7..10 {
            for x in 7..10 {
                pixels[y * 17 + x] = 1.0;
            }
        }
        let x = Tensor::from_vec(&[1, 1, 17, 17], pixels);
        let crop = Augment { crop_scale: (0.25, 0.25), ..Augment::none() };
        // The crop's centre is random, so the blob may be cut; where it is whole it is 4x larger.
        let totals: Vec<f64> = (0..12).map(|seed| ink(&crop.apply(&x, seed).to_vec(), 17).2).collect();
        assert!(totals.iter().all(|&t| t < 42.0), "never more than 4 x 9: {totals:?}");
        assert!(totals.iter().any(|&t| (t - 36.0).abs() < 6.0), "about 4 x 9 when whole: {totals:?}");
    }

    #[test]
    fn erasing_zeroes_a_rectangle() {
        let x = Tensor::from_vec(&[1, 1, 8, 8], vec![1.0f32; 64]);
        let erase = Augment { erase_probability: 1.0, erase_scale: (0.25, 0.25), ..Augment::none() };
        let zeros = erase.apply(&x, 9).to_vec().iter().filter(|v| **v == 0.0).count();
        assert!((8..=32).contains(&zeros), "about a quarter of 64 pixels erased, got {zeros}");
    }
}
