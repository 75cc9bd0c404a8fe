package solutions

// WithoutNames exposes withoutNames to the tests.
var WithoutNames = withoutNames
