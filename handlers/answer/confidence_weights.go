package answer

// confidenceWeights are fitted by TestTrainConfidence
// (EINSATZ_TRAIN_CONFIDENCE=1 go test -run TestTrainConfidence -v ./handlers/answer/).
var confidenceWeights = [cNumFeatures]float64{
	-1.54, // bias
	1.51,  // rare
	0.58,  // coverage
	0.37,  // context
	-1.21, // missing
	3.33,  // gap
	-1.74, // short
	0.00,  // sim
	-0.92, // yesno
	0.89,  // title
	0.27,  // define
}
