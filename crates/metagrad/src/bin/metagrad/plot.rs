//! PNG line plots (plotters). Text needs a TrueType font: the first of a few standard system
//! paths (or `METAGRAD_FONT`) is used; without one the plots are drawn without text.

use crate::training::{CliResult, Record};
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};
use std::path::Path;
use std::sync::OnceLock;

/// A named line, or a named set of markers.
pub struct Series {
    name: String,
    points: Vec<(f64, f64)>,
    markers: bool,
}

impl Series {
    /// A line through `points`.
    pub fn line(name: &str, points: Vec<(f64, f64)>) -> Self {
        Series { name: name.to_string(), points, markers: false }
    }

    /// Markers at `points`.
    pub fn points(name: &str, points: Vec<(f64, f64)>) -> Self {
        Series { name: name.to_string(), points, markers: true }
    }
}

const FONT_PATHS: [&str; 4] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/System/Library/Fonts/Supplemental/Arial.ttf",
];

/// Registers a system font once; false when none was found.
fn font_available() -> bool {
    static FOUND: OnceLock<bool> = OnceLock::new();
    *FOUND.get_or_init(|| {
        let candidates = std::env::var("METAGRAD_FONT").into_iter().chain(FONT_PATHS.iter().map(|s| s.to_string()));
        for path in candidates {
            if let Ok(bytes) = std::fs::read(&path) {
                // plotters keeps fonts for the life of the program.
                let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                if register_font("sans-serif", FontStyle::Normal, bytes).is_ok() {
                    return true;
                }
            }
        }
        false
    })
}

const COLOURS: [RGBColor; 6] =
    [BLACK, RGBColor(230, 120, 0), RGBColor(0, 114, 178), RGBColor(0, 158, 115), RED, MAGENTA];

/// Draws `series` into a PNG at `path` (logarithmic y axis with `log_y`).
pub fn lines(path: &Path, title: &str, x_label: &str, y_label: &str, series: &[Series], log_y: bool) -> CliResult<()> {
    draw(path, title, x_label, y_label, series, log_y).map_err(|e| format!("cannot draw {}: {e}", path.display()))
}

fn draw(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    log_y: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    let text = font_available();
    let all = series.iter().flat_map(|s| s.points.iter());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in all.filter(|(x, y)| x.is_finite() && y.is_finite() && (!log_y || *y > 0.0)) {
        (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
    }
    if x0 > x1 {
        (x0, x1, y0, y1) = (0.0, 1.0, 0.1, 1.0);
    }
    let pad = (y1 - y0).abs().max(1e-9) * 0.05;
    let root = BitMapBackend::new(path, (800, 500)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut builder = ChartBuilder::on(&root);
    builder.margin(15).x_label_area_size(if text { 40 } else { 5 }).y_label_area_size(if text { 60 } else { 5 });
    if text {
        builder.caption(title, ("sans-serif", 22));
    }
    if log_y {
        let mut chart = builder.build_cartesian_2d(x0..x1, (y0 * 0.8..y1 * 1.25).log_scale())?;
        finish(&mut chart, text, x_label, y_label, series)?;
    } else {
        let mut chart = builder.build_cartesian_2d(x0..x1, (y0 - pad)..(y1 + pad))?;
        finish(&mut chart, text, x_label, y_label, series)?;
    }
    root.present()?;
    Ok(())
}

fn finish<
    'a,
    DB: DrawingBackend + 'a,
    Y: plotters::coord::ranged1d::Ranged<ValueType = f64> + plotters::coord::ranged1d::ValueFormatter<f64>,
>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<plotters::coord::types::RangedCoordf64, Y>>,
    text: bool,
    x_label: &str,
    y_label: &str,
    series: &[Series],
) -> Result<(), Box<dyn std::error::Error>>
where
    DB::ErrorType: 'static,
{
    if text {
        chart.configure_mesh().x_desc(x_label).y_desc(y_label).draw()?;
    } else {
        chart.configure_mesh().disable_x_mesh().disable_y_mesh().x_labels(0).y_labels(0).draw()?;
    }
    for (i, s) in series.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let drawn = if s.markers {
            chart.draw_series(s.points.iter().map(|&p| Circle::new(p, 5, colour.filled())))?
        } else {
            chart.draw_series(LineSeries::new(s.points.iter().copied(), colour.stroke_width(2)))?
        };
        if text {
            drawn
                .label(s.name.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2)));
        }
    }
    if text {
        chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw()?;
    }
    Ok(())
}

/// The learning curve: the meta-batch loss and the test score after each evaluated step count.
pub fn learning_curve(path: &Path, title: &str, eval_steps: &[usize], history: &[Record]) -> CliResult<()> {
    let mut series = vec![Series::line(
        "meta-batch query loss",
        history.iter().map(|r| (r.iteration as f64, r.meta_loss)).collect(),
    )];
    for (k, steps) in eval_steps.iter().enumerate() {
        series.push(Series::line(
            &format!("test, {steps} steps"),
            history.iter().filter_map(|r| r.eval.get(k).map(|&v| (r.iteration as f64, v))).collect(),
        ));
    }
    lines(path, title, "meta-iteration", "loss (log scale)", &series, true)
}

/// A heatmap of `matrix[i][j]` (values in `[0, 1]`, row `i` drawn from the top), each cell
/// written as a percentage; `labels` name the columns (and rows).
pub fn heatmap(path: &Path, title: &str, matrix: &[Vec<f64>], labels: &[String]) -> CliResult<()> {
    draw_heatmap(path, title, matrix, labels).map_err(|e| format!("cannot draw {}: {e}", path.display()))
}

fn draw_heatmap(
    path: &Path,
    title: &str,
    matrix: &[Vec<f64>],
    labels: &[String],
) -> Result<(), Box<dyn std::error::Error>> {
    let text = font_available();
    let (rows, cols) = (matrix.len(), matrix.first().map_or(0, Vec::len));
    let root = BitMapBackend::new(path, (120 + 70 * cols as u32, 110 + 50 * rows as u32)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut builder = ChartBuilder::on(&root);
    builder.margin(15).x_label_area_size(if text { 40 } else { 5 }).y_label_area_size(if text { 70 } else { 5 });
    if text {
        builder.caption(title, ("sans-serif", 18));
    }
    let mut chart = builder.build_cartesian_2d(0f64..cols as f64, 0f64..rows as f64)?;
    let label = |v: f64, count: usize, prefix: &str| {
        let k = v.floor() as usize;
        if (v - k as f64 - 0.5).abs() < 1e-6 && k < count {
            labels.get(k).map_or_else(String::new, |l| format!("{prefix}{l}"))
        } else {
            String::new()
        }
    };
    if text {
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(2 * cols + 1)
            .y_labels(2 * rows + 1)
            .x_label_formatter(&|v| label(*v, cols, ""))
            .y_label_formatter(&|v| label(rows as f64 - v, rows, "after "))
            .x_desc("test task")
            .draw()?;
    }
    for (i, row) in matrix.iter().enumerate() {
        for (j, &v) in row.iter().enumerate() {
            let shade = (255.0 * (1.0 - v.clamp(0.0, 1.0))) as u8;
            let colour = RGBColor(shade, shade, 255);
            let (x, y) = (j as f64, (rows - 1 - i) as f64);
            chart.draw_series(std::iter::once(Rectangle::new([(x, y), (x + 1.0, y + 1.0)], colour.filled())))?;
            if text {
                let ink = if v > 0.6 { WHITE } else { BLACK };
                chart.draw_series(std::iter::once(Text::new(
                    format!("{:.0}", 100.0 * v),
                    (x + 0.3, y + 0.65),
                    ("sans-serif", 16).into_font().color(&ink),
                )))?;
            }
        }
    }
    root.present()?;
    Ok(())
}
