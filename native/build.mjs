// Placeholder until the native addon lands: nothing to build yet.
