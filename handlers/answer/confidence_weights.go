package answer

// confidenceWeights are fitted by TestTrainConfidence
// (EINSATZ_TRAIN_CONFIDENCE=1 go test -run TestTrainConfidence -v ./handlers/answer/).
var confidenceWeights = [cNumFeatures]float64{
	-4.03, // bias
	2.28,  // rare
	0.47,  // coverage
	0.19,  // context
	-0.86, // missing
	1.27,  // gap
	-0.91, // short
	0.00,  // sim
	-0.35, // yesno
	0.55,  // title
	-0.19, // define
	0.63,  // phrase
	0.36,  // asked
	2.00,  // raregap
	2.53,  // agree
	0.65,  // kind
}
