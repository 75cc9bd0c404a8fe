package answer

// confidenceWeights are fitted by TestTrainConfidence
// (EINSATZ_TRAIN_CONFIDENCE=1 go test -run TestTrainConfidence -v ./handlers/answer/).
var confidenceWeights = [cNumFeatures]float64{
	-4.08, // bias
	2.28,  // rare
	0.58,  // coverage
	0.06,  // context
	-0.77, // missing
	1.34,  // gap
	-0.87, // short
	0.00,  // sim
	-0.31, // yesno
	0.48,  // title
	-0.19, // define
	0.69,  // phrase
	0.30,  // asked
	1.90,  // raregap
	2.54,  // agree
	0.63,  // kind
}
