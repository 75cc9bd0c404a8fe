package answer

// confidenceWeights are fitted by TestTrainConfidence
// (EINSATZ_TRAIN_CONFIDENCE=1 go test -run TestTrainConfidence -v ./handlers/answer/).
var confidenceWeights = [cNumFeatures]float64{
	-3.12, // bias
	2.30,  // rare
	0.32,  // coverage
	0.10,  // context
	-0.64, // missing
	2.31,  // gap
	-0.60, // short
	0.00,  // sim
	-0.14, // yesno
	0.47,  // title
	-0.20, // define
	0.56,  // phrase
	0.52,  // asked
	2.31,  // raregap
}
