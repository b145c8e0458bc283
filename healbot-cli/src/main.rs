//! The `healbot` command.
fn main() {
    println!("healbot {}", healbot_core::ENGINE_VERSION);
}
