package answer

// confidenceWeights are fitted by TestTrainConfidence
// (EINSATZ_TRAIN_CONFIDENCE=1 go test -run TestTrainConfidence -v ./handlers/answer/).
var confidenceWeights = [cNumFeatures]float64{
	-2.98, // bias
	1.42,  // rare
	0.97,  // coverage
	0.33,  // context
	-0.71, // missing
	3.37,  // gap
	-0.39, // short
	0.00,  // sim
	-0.04, // yesno
	0.48,  // title
	-0.09, // define
	0.65,  // phrase
	0.44,  // asked
}
