//! Python bindings for HealBot.
