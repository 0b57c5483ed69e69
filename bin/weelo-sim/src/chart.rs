//! A latency-over-time chart as SVG: one line per series (p50 and p99 per
//! 5-second bucket) on a logarithmic millisecond axis (latencies span
//! milliseconds to seconds), with labels, a legend, and the run's outcome
//! written under it. SVG needs no drawing
//! crate and renders on GitHub; `make demo` turns it into a PNG when
//! `rsvg-convert` is there.

use std::fmt::Write;

/// One line of the chart.
pub struct Line {
    /// Legend text.
    pub label: String,
    /// CSS colour.
    pub colour: &'static str,
    /// (seconds, milliseconds) points, in time order.
    pub points: Vec<(f64, f64)>,
}

const WIDTH: f64 = 900.0;
const HEIGHT: f64 = 420.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 64.0;
const BOTTOM: f64 = 50.0;

/// The percentile `p` (0–100) of `values`, nearest rank.
fn percentile(values: &mut [f64], p: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    if values.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * values.len() as f64).ceil() as usize;
    values[rank.clamp(1, values.len()) - 1]
}

/// (seconds, milliseconds) points of one line.
pub type Points = Vec<(f64, f64)>;

/// p50 and p99 per `bucket_secs` of (t, ms) samples.
pub fn bucketed(samples: &[(f64, f64)], bucket_secs: f64) -> (Points, Points) {
    let mut buckets: std::collections::BTreeMap<i64, Vec<f64>> = std::collections::BTreeMap::new();
    for (t, ms) in samples {
        buckets
            .entry((t / bucket_secs).floor() as i64)
            .or_default()
            .push(*ms);
    }
    let mut p50 = Vec::new();
    let mut p99 = Vec::new();
    for (bucket, mut values) in buckets {
        let t = (bucket as f64 + 0.5) * bucket_secs;
        p50.push((t, percentile(&mut values, 50.0)));
        p99.push((t, percentile(&mut values, 99.0)));
    }
    (p50, p99)
}

/// Height of one line of the notes under the chart.
const NOTE_HEIGHT: f64 = 18.0;

/// The SVG of `lines` under `title`, with `notes` (the run's outcome: fill
/// rate, orders by outcome, invariants checked) written under the chart.
pub fn svg(title: &str, lines: &[Line], notes: &[String]) -> String {
    let all = lines.iter().flat_map(|l| l.points.iter());
    let (max_t, max_ms) = all.fold((1.0_f64, 1.0_f64), |(t, m), (x, y)| (t.max(*x), m.max(*y)));
    // Decades from 0.1 ms to the first power of ten above the largest value.
    let low = -1.0_f64;
    let high = max_ms.log10().ceil().max(low + 1.0);
    let x = |t: f64| LEFT + t / max_t * (WIDTH - LEFT - RIGHT);
    let y = |ms: f64| {
        let decade = ms.max(0.1).log10();
        HEIGHT - BOTTOM - (decade - low) / (high - low) * (HEIGHT - TOP - BOTTOM)
    };
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{:.0}" font-family="sans-serif" font-size="12"><rect width="100%" height="100%" fill="white"/><text x="{LEFT}" y="22" font-size="15" font-weight="bold">{}</text>"#,
        HEIGHT + NOTE_HEIGHT * notes.len() as f64,
        escape(title)
    );
    for (i, note) in notes.iter().enumerate() {
        let _ = write!(
            out,
            r#"<text x="{LEFT}" y="{:.1}" font-size="13">{}</text>"#,
            HEIGHT + NOTE_HEIGHT * i as f64 + 4.0,
            escape(note)
        );
    }
    for decade in (low as i32)..=(high as i32) {
        let ms = 10_f64.powi(decade);
        let _ = write!(
            out,
            r##"<line x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
            WIDTH - RIGHT,
            LEFT - 6.0,
            y(ms) + 4.0,
            label(ms),
            y = y(ms),
        );
    }
    for i in 0..=6 {
        let t = max_t * f64::from(i) / 6.0;
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{}" text-anchor="middle">{:.0} s</text>"#,
            x(t),
            HEIGHT - BOTTOM + 18.0,
            t
        );
    }
    let _ = write!(
        out,
        r#"<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{}" stroke="black"/><line x1="{LEFT}" x2="{}" y1="{b}" y2="{b}" stroke="black"/><text x="16" y="{}" transform="rotate(-90 16 {})" text-anchor="middle">latency (log scale)</text><text x="{}" y="{}" text-anchor="middle">time since the start of the run</text>"#,
        HEIGHT - BOTTOM,
        WIDTH - RIGHT,
        HEIGHT / 2.0,
        HEIGHT / 2.0,
        (LEFT + WIDTH - RIGHT) / 2.0,
        HEIGHT - 10.0,
        b = HEIGHT - BOTTOM,
    );
    for (i, line) in lines.iter().enumerate() {
        let path: Vec<String> = line
            .points
            .iter()
            .map(|(t, ms)| format!("{:.1},{:.1}", x(*t), y(*ms)))
            .collect();
        let _ = write!(
            out,
            r#"<polyline fill="none" stroke="{}" stroke-width="2" points="{}"/>"#,
            line.colour,
            path.join(" ")
        );
        // The legend runs along the top, under the title, clear of the lines.
        let legend_x = LEFT + 270.0 * (i % 3) as f64;
        let legend_y = 36.0 + 16.0 * (i / 3) as f64;
        let _ = write!(
            out,
            r#"<rect x="{legend_x:.1}" y="{legend_y:.1}" width="14" height="4" fill="{}"/><text x="{:.1}" y="{:.1}">{}</text>"#,
            line.colour,
            legend_x + 20.0,
            legend_y + 5.0,
            escape(&line.label)
        );
    }
    out.push_str("</svg>\n");
    out
}

fn label(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{:.0} s", ms / 1000.0)
    } else if ms >= 1.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{ms} ms")
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_take_percentiles_and_the_svg_has_a_line_per_series() {
        let samples: Vec<(f64, f64)> = (0..100)
            .map(|i| (f64::from(i) / 10.0, f64::from(i)))
            .collect();
        let (p50, p99) = bucketed(&samples, 5.0);
        assert_eq!(p50.len(), 2);
        assert_eq!(p50[0], (2.5, 24.0));
        assert_eq!(p99[1], (7.5, 99.0));
        let svg = svg(
            "a <title>",
            &[
                Line {
                    label: "p50".to_owned(),
                    colour: "blue",
                    points: p50,
                },
                Line {
                    label: "p99".to_owned(),
                    colour: "red",
                    points: p99,
                },
            ],
            &["fill rate 92 %".to_owned()],
        );
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(svg.contains("fill rate 92 %") && svg.contains(r#"height="438""#));
        assert!(svg.contains("a &lt;title&gt;"));
        assert_eq!(svg.matches("ms</text>").count(), 4, "0.1, 1, 10 and 100 ms");
        assert_eq!(label(10_000.0), "10 s");
    }
}
