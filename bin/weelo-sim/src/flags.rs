//! The profiles' command lines: `--name value` pairs, and switches that
//! take no value (`--spawn`).

use anyhow::Context;

/// Calls `set(flag, value)` for each `--flag value` in `args`, and
/// `set(switch, "")` for each of `switches`; `set` refuses what it does not
/// know.
pub fn parse(
    args: &[String],
    switches: &[&str],
    mut set: impl FnMut(&str, &str) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        if switches.contains(&flag.as_str()) {
            set(flag, "")?;
            continue;
        }
        let value = args
            .next()
            .with_context(|| format!("{flag} needs a value"))?;
        set(flag, value)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_and_switches_are_read_and_a_missing_value_is_an_error() {
        let args: Vec<String> = ["--spawn", "--n", "3"].map(str::to_owned).into();
        let mut seen = Vec::new();
        parse(&args, &["--spawn"], |flag, value| {
            seen.push(format!("{flag}={value}"));
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, ["--spawn=", "--n=3"]);
        let short: Vec<String> = ["--n"].map(str::to_owned).into();
        assert!(parse(&short, &[], |_, _| Ok(())).is_err());
    }
}
