package answer

// ExampleIndex gives the external tests (package answer_test) the same
// example-knowledge-base index as the internal ones.
var ExampleIndex = exampleIndex
