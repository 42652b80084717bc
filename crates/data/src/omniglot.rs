//! Omniglot (Lake, Salakhutdinov & Tenenbaum 2015) from the layout of the official zips:
//! `images_background/<Alphabet>/<characterNN>/<ID>_<DD>.png` and `images_evaluation/...`.
//!
//! Each 105 x 105 one-bit drawing is resized to 28 x 28 by area averaging (each output pixel
//! is the mean of the source area it covers) with ink as 1.0, and quantised to a byte, so that
//! a load from the PNGs and a load from the cache give the same bits. A binary cache of the
//! resized images makes a second load fast; it records a fingerprint of the source files
//! (paths and sizes) and is rebuilt when they change.

use crate::episodes::{Class, ClassDataset};
use crate::{DataError, Result};
use ndarray::{Array2, Array3, Axis};
use rand::seq::SliceRandom;
use rand::SeedableRng;
#[cfg(feature = "rayon")]
use rayon::prelude::*;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Side of the resized images.
///
/// # Examples
///
/// ```
/// use metagrad_data::omniglot::{resize_ink, SIDE};
/// use ndarray::Array2;
///
/// // A blank 105 x 105 drawing (white is 255) becomes SIDE x SIDE pixels without ink.
/// let out = resize_ink(&Array2::from_elem((105, 105), 255u8));
/// assert_eq!((SIDE, out.len()), (28, 28 * 28));
/// assert!(out.iter().all(|&v| v == 0));
/// ```
pub const SIDE: usize = 28;
const CACHE_MAGIC: &[u8; 8] = b"MGOMNI01";

/// One character (a class before rotations).
///
/// # Examples
///
/// ```
/// use metagrad_data::omniglot::{Character, Omniglot, SIDE};
/// use ndarray::{s, Array3};
///
/// // Three drawings; every pixel of drawing i is i / 4.
/// let images = Array3::from_shape_fn((3, SIDE, SIDE), |(i, _, _)| i as f32 / 4.0);
/// let alpha = Character {
///     set: "images_background".into(),
///     alphabet: "Greek".into(),
///     name: "character01".into(),
///     examples: 0..1,
/// };
/// let beta = Character { name: "character02".into(), examples: 1..3, ..alpha.clone() };
/// let omniglot = Omniglot { images, characters: vec![alpha, beta] };
/// // `examples` is the range of a character's drawings in `images`.
/// let drawings = omniglot.images.slice(s![omniglot.characters[1].examples.clone(), .., ..]);
/// assert_eq!((drawings.dim(), drawings[[1, 0, 0]]), ((2, SIDE, SIDE), 0.5));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Character {
    /// `images_background` or `images_evaluation`.
    pub set: String,
    /// The alphabet folder name.
    pub alphabet: String,
    /// The character folder name (`characterNN`).
    pub name: String,
    /// Its drawings: indices into [`Omniglot::images`].
    pub examples: std::ops::Range<usize>,
}

/// All of Omniglot, resized.
///
/// # Examples
///
/// ```
/// use metagrad_data::episodes::EpisodeSampler;
/// use metagrad_data::omniglot::{Character, Omniglot, SIDE};
/// use ndarray::Array3;
/// use rand::{rngs::StdRng, SeedableRng};
///
/// // A stand-in for `Omniglot::load`: 6 characters of 4 drawings each.
/// let character = |c: usize| Character {
///     set: "images_background".into(),
///     alphabet: "Latin".into(),
///     name: format!("character{c:02}"),
///     examples: 4 * c..4 * c + 4,
/// };
/// let characters = (0..6).map(character).collect();
/// let omniglot = Omniglot { images: Array3::zeros((24, SIDE, SIDE)), characters };
/// // The usual pipeline: a character split, rotations as classes, then episodes.
/// let (train, _test) = omniglot.random_split(4, 0);
/// let classes = omniglot.classes(&train, true);
/// let episode = EpisodeSampler { ways: 5, shots: 1, queries: 2 }.sample(&classes, &mut StdRng::seed_from_u64(0));
/// assert_eq!(episode.support.images.shape(), &[5, 1, SIDE, SIDE]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Omniglot {
    /// `[drawings, 28, 28]`, values in `[0, 1]`, ink high.
    pub images: Array3<f32>,
    /// Characters in a fixed order: background then evaluation, alphabets and characters sorted.
    pub characters: Vec<Character>,
}

const SETS: [&str; 2] = ["images_background", "images_evaluation"];

/// The PNG files of each character, in order.
fn scan(root: &Path) -> Result<Vec<(Character, Vec<PathBuf>)>> {
    let sorted_dirs = |dir: &Path| -> Result<Vec<PathBuf>> {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| DataError::io(dir, e))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.is_dir())
            .collect();
        dirs.sort();
        Ok(dirs)
    };
    let mut characters = Vec::new();
    for set in SETS {
        let set_dir = root.join(set);
        if !set_dir.is_dir() {
            return Err(DataError::layout(
                root,
                format!("no {set} folder (unzip images_background.zip and images_evaluation.zip here)"),
            ));
        }
        for alphabet in sorted_dirs(&set_dir)? {
            for character in sorted_dirs(&alphabet)? {
                let mut pngs: Vec<PathBuf> = std::fs::read_dir(&character)
                    .map_err(|e| DataError::io(&character, e))?
                    .filter_map(|entry| entry.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "png"))
                    .collect();
                if pngs.is_empty() {
                    return Err(DataError::layout(&character, "an empty class: no .png drawings"));
                }
                pngs.sort();
                let name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                let meta = Character {
                    set: set.to_string(),
                    alphabet: name(&alphabet),
                    name: name(&character),
                    examples: 0..0,
                };
                characters.push((meta, pngs));
            }
        }
    }
    Ok(characters)
}

/// Paths and sizes of the sources, hashed (FNV-1a): changes when a file is added, removed,
/// renamed or rewritten with another size.
fn fingerprint(root: &Path, characters: &[(Character, Vec<PathBuf>)]) -> Result<u64> {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for &b in bytes {
            hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    };
    for (_, pngs) in characters {
        for png in pngs {
            let size = std::fs::metadata(png).map_err(|e| DataError::io(png, e))?.len();
            feed(png.strip_prefix(root).unwrap_or(png).to_string_lossy().as_bytes());
            feed(&size.to_le_bytes());
        }
    }
    Ok(hash)
}

/// Decodes a PNG into grey levels, `[height, width]`, 0 = black.
///
/// # Examples
///
/// ```
/// use metagrad_data::{omniglot::decode_png, DataError};
///
/// # fn png(width: u32, height: u32, grey: &[u8]) -> Vec<u8> {
/// #     let mut bytes = Vec::new();
/// #     let mut encoder = png::Encoder::new(&mut bytes, width, height);
/// #     encoder.set_color(png::ColorType::Grayscale);
/// #     encoder.set_depth(png::BitDepth::Eight);
/// #     let mut writer = encoder.write_header().unwrap();
/// #     writer.write_image_data(grey).unwrap();
/// #     writer.finish().unwrap();
/// #     bytes
/// # }
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("0101_01.png");
/// // 3 wide, 2 tall: a black stroke across the top row on white.
/// std::fs::write(&path, png(3, 2, &[0, 0, 0, 255, 255, 255]))?;
/// let grey = decode_png(&path)?;
/// assert_eq!(grey, ndarray::arr2(&[[0, 0, 0], [255, 255, 255]]));
/// assert!(matches!(decode_png(&dir.path().join("absent.png")), Err(DataError::Io { .. })));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn decode_png(path: &Path) -> Result<Array2<u8>> {
    let file = std::fs::File::open(path).map_err(|e| DataError::io(path, e))?;
    decode_png_bytes(std::io::BufReader::new(file), path)
}

/// Decodes PNG bytes (any reader); `path` names the source in errors.
///
/// # Examples
///
/// ```
/// use metagrad_data::omniglot::decode_png_bytes;
/// use std::path::Path;
///
/// # fn png(width: u32, height: u32, grey: &[u8]) -> Vec<u8> {
/// #     let mut bytes = Vec::new();
/// #     let mut encoder = png::Encoder::new(&mut bytes, width, height);
/// #     encoder.set_color(png::ColorType::Grayscale);
/// #     encoder.set_depth(png::BitDepth::Eight);
/// #     let mut writer = encoder.write_header().unwrap();
/// #     writer.write_image_data(grey).unwrap();
/// #     writer.finish().unwrap();
/// #     bytes
/// # }
/// let bytes = png(2, 2, &[10, 20, 30, 40]);
/// let grey = decode_png_bytes(&bytes[..], Path::new("in-memory.png"))?;
/// assert_eq!(grey, ndarray::arr2(&[[10, 20], [30, 40]]));
/// // Anything else is an error naming the source, never a panic.
/// let err = decode_png_bytes(&b"GIF89a"[..], Path::new("in-memory.png")).unwrap_err();
/// assert!(err.to_string().starts_with("in-memory.png: PNG"), "{err}");
/// # Ok::<(), metagrad_data::DataError>(())
/// ```
pub fn decode_png_bytes(reader: impl Read, path: &Path) -> Result<Array2<u8>> {
    let bad = |e: png::DecodingError| DataError::format(path, format!("PNG: {e}"));
    let mut decoder = png::Decoder::new(reader);
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().map_err(bad)?;
    let (width, height) = (reader.info().width as usize, reader.info().height as usize);
    if width == 0 || height == 0 || width * height > 1 << 24 {
        return Err(DataError::format(path, format!("image size {width}x{height} is out of range")));
    }
    let mut buffer = vec![0; reader.output_buffer_size()];
    let frame = reader.next_frame(&mut buffer).map_err(bad)?;
    let channels = frame.color_type.samples();
    if frame.bit_depth != png::BitDepth::Eight {
        return Err(DataError::format(path, format!("unsupported bit depth {:?}", frame.bit_depth)));
    }
    // Grey, grey + alpha or colour: the first channel is enough for black-on-white drawings.
    let grey: Vec<u8> =
        (0..width * height).map(|i| buffer[(i / width) * frame.line_size + (i % width) * channels]).collect();
    Ok(Array2::from_shape_vec((height, width), grey).expect("sizes agree"))
}

/// Weights of the area-average resize along one axis: `out[i] = sum_j w[i][j] in[j]`, each
/// row the overlap of output cell `i` with the input cells, normalised to sum to 1.
fn area_weights(from: usize, to: usize) -> Array2<f32> {
    let scale = from as f64 / to as f64;
    Array2::from_shape_fn((to, from), |(i, j)| {
        let (lo, hi) = (i as f64 * scale, (i + 1) as f64 * scale);
        let overlap = (hi.min(j as f64 + 1.0) - lo.max(j as f64)).max(0.0);
        (overlap / scale) as f32
    })
}

/// Resizes a grey image (0 = ink) to `SIDE x SIDE` with ink as 255, by area averaging.
///
/// # Examples
///
/// ```
/// use metagrad_data::omniglot::{resize_ink, SIDE};
/// use ndarray::Array2;
///
/// // 56 x 56, black (ink) on the left half, white on the right: each output pixel
/// // averages a 2 x 2 block, so the left 14 columns are full ink and the rest blank.
/// let grey = Array2::from_shape_fn((56, 56), |(_, c)| if c < 28 { 0 } else { 255 });
/// let out = resize_ink(&grey);
/// assert_eq!(out.len(), SIDE * SIDE);
/// assert!((0..SIDE * SIDE).all(|i| out[i] == if i % SIDE < 14 { 255 } else { 0 }));
/// ```
pub fn resize_ink(grey: &Array2<u8>) -> [u8; SIDE * SIDE] {
    let (h, w) = grey.dim();
    let ink = grey.mapv(|v| 1.0 - f32::from(v) / 255.0);
    let out = area_weights(h, SIDE).dot(&ink).dot(&area_weights(w, SIDE).t());
    let mut bytes = [0u8; SIDE * SIDE];
    for (b, v) in bytes.iter_mut().zip(out.iter()) {
        *b = (v.clamp(0.0, 1.0) * 255.0).round() as u8;
    }
    bytes
}

impl Omniglot {
    /// Loads Omniglot from `root` (the folder holding `images_background` and
    /// `images_evaluation`), through the cache file `cache` when it matches the sources, and
    /// writes the cache (atomically: a temporary file, then a rename) when it does not.
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_data::omniglot::{Omniglot, SIDE};
    ///
    /// # fn png(width: u32, height: u32, grey: &[u8]) -> Vec<u8> {
    /// #     let mut bytes = Vec::new();
    /// #     let mut encoder = png::Encoder::new(&mut bytes, width, height);
    /// #     encoder.set_color(png::ColorType::Grayscale);
    /// #     encoder.set_depth(png::BitDepth::Eight);
    /// #     let mut writer = encoder.write_header().unwrap();
    /// #     writer.write_image_data(grey).unwrap();
    /// #     writer.finish().unwrap();
    /// #     bytes
    /// # }
    /// // The official layout in miniature: two characters to train, one to test.
    /// let root = tempfile::tempdir()?;
    /// let (black, white) = (png(8, 8, &[0; 64]), png(8, 8, &[255; 64]));
    /// for (folder, drawings) in [
    ///     ("images_background/Latin/character01", vec![&black, &white]),
    ///     ("images_background/Latin/character02", vec![&white]),
    ///     ("images_evaluation/Runic/character01", vec![&black]),
    /// ] {
    ///     std::fs::create_dir_all(root.path().join(folder))?;
    ///     for (k, bytes) in drawings.into_iter().enumerate() {
    ///         std::fs::write(root.path().join(folder).join(format!("0000_{k:02}.png")), bytes)?;
    ///     }
    /// }
    /// let cache = root.path().join("omniglot.cache");
    /// let omniglot = Omniglot::load(root.path(), Some(&cache))?;
    /// assert_eq!(omniglot.images.dim(), (4, SIDE, SIDE));
    /// assert_eq!(omniglot.characters[0].examples, 0..2);
    /// assert_eq!(omniglot.characters[2].set, "images_evaluation");
    /// // An all-black drawing is all ink (1.0), an all-white one blank.
    /// assert!(omniglot.images[[0, 5, 5]] == 1.0 && omniglot.images[[1, 5, 5]] == 0.0);
    /// // The second load reads the cache and gives the same data.
    /// assert!(cache.is_file());
    /// assert_eq!(Omniglot::load(root.path(), Some(&cache))?, omniglot);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn load(root: &Path, cache: Option<&Path>) -> Result<Omniglot> {
        let characters = scan(root)?;
        let print = fingerprint(root, &characters)?;
        if let Some(cache) = cache {
            if let Ok(Some(found)) = read_cache(cache, print) {
                return Ok(found);
            }
        }
        let files: Vec<&PathBuf> = characters.iter().flat_map(|(_, pngs)| pngs).collect();
        let pixels: Vec<[u8; SIDE * SIDE]> =
            files_iter(&files).map(|p| decode_png(p).map(|g| resize_ink(&g))).collect::<Result<_>>()?;
        let mut start = 0;
        let metas = characters
            .into_iter()
            .map(|(mut meta, pngs)| {
                meta.examples = start..start + pngs.len();
                start += pngs.len();
                meta
            })
            .collect();
        let loaded = from_bytes(&pixels.concat(), metas);
        if let Some(cache) = cache {
            write_cache(cache, print, &loaded)?;
        }
        Ok(loaded)
    }

    /// Characters whose set is `images_background` (the 964 used to meta-train) or
    /// `images_evaluation` (the 659 used to test).
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_data::omniglot::{Character, Omniglot, SIDE};
    /// use ndarray::Array3;
    ///
    /// let character = |set: &str, k: usize| Character {
    ///     set: set.into(),
    ///     alphabet: "Runic".into(),
    ///     name: format!("character{k:02}"),
    ///     examples: k..k + 1,
    /// };
    /// let sets = ["images_background", "images_background", "images_evaluation"];
    /// let characters = sets.iter().enumerate().map(|(k, set)| character(set, k)).collect();
    /// let omniglot = Omniglot { images: Array3::zeros((3, SIDE, SIDE)), characters };
    /// assert_eq!(omniglot.characters_in("images_background"), vec![0, 1]);
    /// assert_eq!(omniglot.characters_in("images_evaluation"), vec![2]);
    /// ```
    pub fn characters_in(&self, set: &str) -> Vec<usize> {
        (0..self.characters.len()).filter(|&c| self.characters[c].set == set).collect()
    }

    /// A seeded split of all characters into `train` and the rest, as MAML uses (1,200
    /// training characters, Santoro et al. 2016; Finn et al. 2017).
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_data::omniglot::{Character, Omniglot, SIDE};
    /// use ndarray::Array3;
    ///
    /// let character = |k: usize| Character {
    ///     set: "images_background".into(),
    ///     alphabet: "Runic".into(),
    ///     name: format!("character{k:02}"),
    ///     examples: k..k + 1,
    /// };
    /// let characters = (0..10).map(character).collect();
    /// let omniglot = Omniglot { images: Array3::zeros((10, SIDE, SIDE)), characters };
    /// let (train, test) = omniglot.random_split(7, 3);
    /// assert_eq!((train.len(), test.len()), (7, 3));
    /// // Disjoint and together every character.
    /// let mut all = [train.clone(), test].concat();
    /// all.sort_unstable();
    /// assert_eq!(all, (0..10).collect::<Vec<_>>());
    /// assert_eq!(omniglot.random_split(7, 3).0, train); // fixed by the seed
    /// ```
    pub fn random_split(&self, train: usize, seed: u64) -> (Vec<usize>, Vec<usize>) {
        let mut order: Vec<usize> = (0..self.characters.len()).collect();
        order.shuffle(&mut rand::rngs::StdRng::seed_from_u64(seed));
        let test = order.split_off(train.min(order.len()));
        (order, test)
    }

    /// The chosen characters as classes for episodes, each also at 90, 180 and 270 degrees
    /// when `rotations` (four classes per character).
    ///
    /// # Examples
    ///
    /// ```
    /// use metagrad_data::omniglot::{Character, Omniglot, SIDE};
    /// use ndarray::Array3;
    ///
    /// // Two characters of three drawings each.
    /// let character = |k: usize| Character {
    ///     set: "images_background".into(),
    ///     alphabet: "Runic".into(),
    ///     name: format!("character{k:02}"),
    ///     examples: 3 * k..3 * k + 3,
    /// };
    /// let characters = (0..2).map(character).collect();
    /// let omniglot = Omniglot { images: Array3::zeros((6, SIDE, SIDE)), characters };
    /// // With rotations: four classes per character, sharing its drawings.
    /// let rotated = omniglot.classes(&[0, 1], true);
    /// assert_eq!(rotated.classes.len(), 8);
    /// assert_eq!((rotated.classes[5].examples.clone(), rotated.classes[5].quarter_turns), (vec![3, 4, 5], 1));
    /// // Without: one class per character, and only the chosen characters' drawings.
    /// let plain = omniglot.classes(&[1], false);
    /// assert_eq!((plain.classes.len(), plain.images.dim()), (1, (3, SIDE, SIDE)));
    /// ```
    pub fn classes(&self, characters: &[usize], rotations: bool) -> ClassDataset {
        let indices: Vec<usize> = characters.iter().flat_map(|&c| self.characters[c].examples.clone()).collect();
        let images = self.images.select(Axis(0), &indices);
        let mut classes = Vec::new();
        let mut start = 0;
        for &c in characters {
            let count = self.characters[c].examples.len();
            let turns: &[u8] = if rotations { &[0, 1, 2, 3] } else { &[0] };
            classes
                .extend(turns.iter().map(|&t| Class { examples: (start..start + count).collect(), quarter_turns: t }));
            start += count;
        }
        ClassDataset { images, classes }
    }
}

fn from_bytes(bytes: &[u8], characters: Vec<Character>) -> Omniglot {
    let count = bytes.len() / (SIDE * SIDE);
    let images = Array3::from_shape_vec((count, SIDE, SIDE), bytes.iter().map(|&b| f32::from(b) / 255.0).collect())
        .expect("whole images");
    Omniglot { images, characters }
}

fn write_cache(path: &Path, print: u64, data: &Omniglot) -> Result<()> {
    let mut out = Vec::new();
    out.extend_from_slice(CACHE_MAGIC);
    out.extend(print.to_le_bytes());
    out.extend((data.characters.len() as u64).to_le_bytes());
    for c in &data.characters {
        for text in [&c.set, &c.alphabet, &c.name] {
            out.extend((text.len() as u64).to_le_bytes());
            out.extend(text.as_bytes());
        }
        out.extend((c.examples.start as u64).to_le_bytes());
        out.extend((c.examples.end as u64).to_le_bytes());
    }
    out.extend(data.images.iter().map(|&v| (v * 255.0).round() as u8));
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| DataError::io(dir, e))?;
    }
    let temp = path.with_extension(format!("tmp{}", std::process::id()));
    let written = std::fs::File::create(&temp).and_then(|mut f| f.write_all(&out).and_then(|_| f.sync_all()));
    if let Err(e) = written.and_then(|_| std::fs::rename(&temp, path)) {
        let _ = std::fs::remove_file(&temp);
        return Err(DataError::io(path, e));
    }
    Ok(())
}

/// The cached dataset if the file exists, is well-formed and matches `print`.
fn read_cache(path: &Path, print: u64) -> Result<Option<Omniglot>> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(_) => return Ok(None),
    };
    let mut at = 0usize;
    let mut take = |n: usize| -> Option<&[u8]> {
        let slice = bytes.get(at..at.checked_add(n)?)?;
        at += n;
        Some(slice)
    };
    let parsed = (|| -> Option<Omniglot> {
        if take(8)? != CACHE_MAGIC || u64::from_le_bytes(take(8)?.try_into().ok()?) != print {
            return None;
        }
        let count = u64::from_le_bytes(take(8)?.try_into().ok()?) as usize;
        let mut characters = Vec::with_capacity(count.min(1 << 16));
        for _ in 0..count {
            let mut text = || -> Option<String> {
                let len = u64::from_le_bytes(take(8)?.try_into().ok()?) as usize;
                String::from_utf8(take(len)?.to_vec()).ok()
            };
            let (set, alphabet, name) = (text()?, text()?, text()?);
            let start = u64::from_le_bytes(take(8)?.try_into().ok()?) as usize;
            let end = u64::from_le_bytes(take(8)?.try_into().ok()?) as usize;
            characters.push(Character { set, alphabet, name, examples: start..end });
        }
        let drawings = characters.last().map_or(0, |c| c.examples.end);
        let pixels = take(drawings.checked_mul(SIDE * SIDE)?)?;
        Some(from_bytes(pixels, characters))
    })();
    Ok(parsed.filter(|_| at == bytes.len()))
}

/// The items, iterated in parallel when the `rayon` feature is on.
#[cfg(feature = "rayon")]
fn files_iter<T: Sync>(items: &[T]) -> rayon::slice::Iter<'_, T> {
    items.par_iter()
}

/// The items, iterated in order on this thread (the `rayon` feature is off).
#[cfg(not(feature = "rayon"))]
fn files_iter<T>(items: &[T]) -> std::slice::Iter<'_, T> {
    items.iter()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn area_weights_average_exactly() {
        let w = area_weights(105, 28);
        for row in w.outer_iter() {
            assert!((row.sum() - 1.0).abs() < 1e-5);
        }
        // A full-ink image stays full ink; a blank one stays blank.
        assert!(resize_ink(&Array2::zeros((105, 105))).iter().all(|&v| v == 255));
        assert!(resize_ink(&Array2::from_elem((105, 105), 255)).iter().all(|&v| v == 0));
    }

    #[test]
    fn bad_png_bytes_are_typed_errors() {
        let err = decode_png_bytes(&b"not a png"[..], Path::new("bad.png")).unwrap_err().to_string();
        assert!(err.starts_with("bad.png: PNG"), "{err}");
    }

    proptest::proptest! {
        #[test]
        fn random_and_truncated_png_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200), cut in 0usize..100) {
            let _ = decode_png_bytes(&bytes[..], Path::new("fuzz.png"));
            // A valid PNG header followed by junk, cut anywhere.
            let mut png = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
            png.extend(&bytes);
            let _ = decode_png_bytes(&png[..cut.min(png.len())], Path::new("cut.png"));
        }
    }
}
