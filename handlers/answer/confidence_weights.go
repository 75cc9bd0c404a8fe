package answer

// confidenceWeights are fitted by TestTrainConfidence
// (EINSATZ_TRAIN_CONFIDENCE=1 go test -run TestTrainConfidence -v ./handlers/answer/).
var confidenceWeights = [cNumFeatures]float64{
	0.00,  // bias
	0.36,  // rare
	-0.06, // coverage
	0.27,  // context
	-2.13, // missing
	3.94,  // gap
	-1.59, // short
	0.00,  // sim
	-0.73, // yesno
	0.90,  // title
	0.42,  // define
	0.54,  // phrase
	-0.15, // asked
}
