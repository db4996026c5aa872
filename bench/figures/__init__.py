"""One module per figure; each function takes the running BenchEnv and the repetition plan
and returns Figures."""
