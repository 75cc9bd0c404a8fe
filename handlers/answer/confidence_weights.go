package answer

// confidenceWeights are fitted by TestTrainConfidence
// (EINSATZ_TRAIN_CONFIDENCE=1 go test -run TestTrainConfidence -v ./handlers/answer/).
var confidenceWeights = [cNumFeatures]float64{
	-4.02, // bias
	2.30,  // rare
	0.55,  // coverage
	0.07,  // context
	-0.89, // missing
	1.30,  // gap
	-0.88, // short
	0.00,  // sim
	-0.31, // yesno
	0.48,  // title
	-0.19, // define
	0.67,  // phrase
	0.24,  // asked
	1.93,  // raregap
	2.56,  // agree
	0.66,  // kind
}
