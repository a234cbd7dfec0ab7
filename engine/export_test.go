package engine

// BenchFlow exposes benchFlow to the external benchmarks.
const BenchFlow = benchFlow
