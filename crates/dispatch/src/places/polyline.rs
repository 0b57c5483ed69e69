//! The encoded polyline format Google and OSRM use (precision 5): decoded
//! to `[latitude, longitude]` pairs.

/// The points of `encoded`; stops at the first malformed byte.
pub fn decode(encoded: &str) -> Vec<[f64; 2]> {
    let bytes = encoded.as_bytes();
    let mut points = Vec::new();
    let (mut at, mut lat, mut lng) = (0_usize, 0_i64, 0_i64);
    let next = |at: &mut usize| -> Option<i64> {
        let (mut result, mut shift) = (0_i64, 0_u32);
        loop {
            let byte = i64::from(*bytes.get(*at)?) - 63;
            *at += 1;
            if !(0..64).contains(&byte) || shift > 30 {
                return None;
            }
            result |= (byte & 0x1f) << shift;
            shift += 5;
            if byte < 0x20 {
                break;
            }
        }
        Some(if result & 1 == 1 {
            !(result >> 1)
        } else {
            result >> 1
        })
    };
    while at < bytes.len() {
        let (Some(d_lat), Some(d_lng)) = (next(&mut at), next(&mut at)) else {
            break;
        };
        lat += d_lat;
        lng += d_lng;
        #[expect(clippy::cast_precision_loss, reason = "1e-5 degrees fit f64")]
        points.push([lat as f64 / 1e5, lng as f64 / 1e5]);
    }
    points
}

/// `points` encoded (the stand-ins in the tests write fixtures with it).
pub fn encode(points: &[[f64; 2]]) -> String {
    let mut out = String::new();
    let (mut last_lat, mut last_lng) = (0_i64, 0_i64);
    let push = |value: i64, out: &mut String| {
        let mut v = if value < 0 { !(value << 1) } else { value << 1 };
        while v >= 0x20 {
            out.push(char::from(
                u8::try_from((0x20 | (v & 0x1f)) + 63).unwrap_or(b'?'),
            ));
            v >>= 5;
        }
        out.push(char::from(u8::try_from(v + 63).unwrap_or(b'?')));
    };
    for [lat, lng] in points {
        #[expect(clippy::cast_possible_truncation, reason = "degrees × 1e5 fit i64")]
        let (lat, lng) = ((lat * 1e5).round() as i64, (lng * 1e5).round() as i64);
        push(lat - last_lat, &mut out);
        push(lng - last_lng, &mut out);
        (last_lat, last_lng) = (lat, lng);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn googles_documented_example_decodes() {
        // developers.google.com/maps/documentation/utilities/polylinealgorithm
        let points = decode("_p~iF~ps|U_ulLnnqC_mqNvxq`@");
        assert_eq!(
            points,
            vec![[38.5, -120.2], [40.7, -120.95], [43.252, -126.453]]
        );
        assert_eq!(encode(&points), "_p~iF~ps|U_ulLnnqC_mqNvxq`@");
        assert!(decode("").is_empty());
    }
}
