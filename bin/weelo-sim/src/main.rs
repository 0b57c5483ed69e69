//! `weelo-sim`: the city simulator. It will drive a running server exactly as
//! the apps do (the simulator issue); for now it explains itself and exits.

const USAGE: &str = "usage: weelo-sim [--help]

weelo-sim will simulate a city against a running weelo-server: transporters and
drivers going online and beating, customers booking, holds, confirms, driver
answers and trips, with a live progress line and a final report.
It is not built yet; this binary only prints this text.";

fn main() {
    println!("{USAGE}");
}
