//! The profiles' command lines, read by clap: `--help` on each profile,
//! typed values, and a clear message for a bad or missing one.

/// Parses `args` (after the profile's name) into `T`; prints the help or
/// the error and exits, as any command line does, when they ask for help or
/// are wrong.
pub fn parse<T: clap::Parser>(profile: &str, args: &[String]) -> T {
    T::parse_from(std::iter::once(format!("weelo-sim {profile}")).chain(args.iter().cloned()))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    #[derive(Parser, Debug)]
    struct Sample {
        #[arg(long)]
        spawn: bool,
        #[arg(long, default_value_t = 1)]
        n: u32,
    }

    #[test]
    fn pairs_and_switches_are_read_and_a_missing_value_is_an_error() {
        let read = Sample::try_parse_from(["p", "--spawn", "--n", "3"]).unwrap();
        assert!(read.spawn && read.n == 3);
        assert_eq!(Sample::try_parse_from(["p"]).unwrap().n, 1);
        assert!(Sample::try_parse_from(["p", "--n"]).is_err());
        assert!(Sample::try_parse_from(["p", "--n", "x"]).is_err());
        let help = Sample::try_parse_from(["p", "--help"]).unwrap_err();
        assert_eq!(help.kind(), clap::error::ErrorKind::DisplayHelp);
    }
}
