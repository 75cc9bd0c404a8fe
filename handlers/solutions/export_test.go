package solutions

// WithoutNames exposes withoutNames to the tests.
var WithoutNames = withoutNames

// SolvedTag and SolvedTags expose the forum tag choice to the tests.
var (
	SolvedTag  = solvedTag
	SolvedTags = solvedTags
)
