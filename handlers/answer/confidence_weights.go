package answer

// confidenceWeights are fitted by TestTrainConfidence
// (EINSATZ_TRAIN_CONFIDENCE=1 go test -run TestTrainConfidence -v ./handlers/answer/).
var confidenceWeights = [cNumFeatures]float64{
	-0.99, // bias
	1.55,  // rare
	-0.14, // coverage
	1.33,  // context
	-0.85, // missing
	2.47,  // gap
	-1.41, // short
	0.00,  // sim
	-0.85, // yesno
}
