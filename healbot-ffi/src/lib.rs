//! C ABI for HealBot.
