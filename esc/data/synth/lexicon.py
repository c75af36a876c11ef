"""Word classes for the synthetic read-speech sentences: over 1,000 common English words.

Sentences follow a few part-of-speech templates, so transcripts read like (odd) English and
a character-level ASR model has real spelling to learn.
"""

NOUNS = """
apple arm army baby bag ball band bank bar base basket bath beach bean bear bed bell belt bench bike bird
blanket boat body bone book boot bottle bowl box boy brain branch bread brick bridge brother brush bucket
building bus butter button cabin cake camera camp candle cap captain car card carpet cart castle cat cave
chair chalk cheese chest chicken child church circle city class clock cloud coat coffee coin collar colour
computer cook corn corner cotton country cousin cow crab crowd cup curtain cushion dancer daughter deer desk
diamond dinner doctor dog doll dolphin door dragon drawer dress drum duck eagle ear earth egg elephant engine
eye face factory farm farmer father feather fence field finger fire fish flag floor flower fog food foot
forest fork fox friend frog fruit garden gate ghost giant girl glass glove goat gold grape grass guitar hall
hammer hand harbour hat head heart hill horse hospital hotel house island jacket jar jelly jewel judge kettle
key king kitchen kite knife ladder lady lake lamp lawyer leaf lemon letter library light lion lizard lock
machine magnet map market meadow meal milk mirror monkey moon morning mother mountain mouse mouth museum
nail neck needle nest net newspaper night nose notebook nurse ocean office onion orange owl painter palace
pan paper park parrot party pasta path pear pen pencil pepper piano picture pig pillow pilot pipe planet
plate pocket poet pond potato prince princess pump puppy queen rabbit radio rain river road robot rock roof
room rope rose sailor salad salt sand scarf school scientist sea seed shadow sheep shelf shell ship shirt
shoe shop shoulder singer sister sky snake snow soap sock soldier song soup spider spoon square stair star
station stone storm stove street student sugar sun supper swan table tail teacher teapot tent theatre thief
thread throat ticket tiger tomato tongue tooth towel tower town toy track train tree truck tunnel turtle
umbrella uncle valley van vase village violin voice wagon wall wallet watch water wave whale wheel whistle
window wing winter wire wolf woman wood word worker yard zebra anchor apron attic axe bakery balloon banana
barn beetle berry blossom boulder bracelet breeze bubble buffalo cabbage cactus camel canal canoe canvas
carrot cellar cherry chimney cliff clover cobweb comet compass cookie coral cottage cradle crayon cricket
crown crystal cupboard daisy desert dune elbow feast ferry fiddle flute fountain gallery garage garlic
glacier goose gravel guard hammock harvest hedge helmet hive hook hut iceberg ink jungle kangaroo kennel
lantern lettuce lighthouse lobster locket log meadowlark melon mill mitten moth mug mushroom napkin nut oak
oar olive orchard otter oven paddle pancake panda parcel peach peanut pebble pelican penguin pepperoni pie
pigeon pine pirate pizza plum pony porch puddle pumpkin puzzle quilt raft raven ribbon saddle scissors
shovel skate sled slipper snail spark sponge squirrel stable statue straw stream sweater swing tractor
trumpet tulip wand walnut wasp weasel well willow wizard wren
"""

VERBS = """
admired allowed answered asked baked borrowed bought brought built buried called carried caught chased
cleaned climbed closed collected cooked copied counted covered crossed dropped dried earned emptied
enjoyed entered explained fed fetched filled finished fixed folded followed found gathered grabbed guarded
hid held helped hugged hunted ignored joined kept kicked kissed knew lifted liked loaded locked lost loved
made mended missed moved noticed opened ordered packed painted passed picked planted played pointed pulled
pushed raised reached read remembered repaired rescued returned saved saw searched selected sent served
shared showed signed sold sorted spotted squeezed stole stopped studied supported taught thanked threw
touched traded trusted turned understood used visited waited warmed washed watched welcomed wanted wrapped
wrote tossed shook painted bent blew broke chose drew drove forgot froze gave grew hit hung knocked led lent
lit met mixed named offered owned parked peeled polished poured pressed printed protected punched rattled
received recorded rented rolled rubbed scrubbed shaped sketched smelled sniffed spilled stacked stirred
stretched swept tied tested tracked trimmed unlocked unpacked unwrapped weighed whispered wiped zipped
carved cleared dusted fried guided hammered juggled launched measured nudged patted plucked quizzed sliced
sprayed tapped tickled towed vacuumed waved welded yanked
"""

ADJECTIVES = """
able angry ancient anxious bald beautiful big bitter black blue bold brave bright broad broken brown busy
calm careful cheap cheerful clean clever cold cool crazy creamy crisp cruel curly curious damp dark dear
deep dirty dry dull dusty eager early easy empty endless famous fancy fast fat fierce fine flat fluffy
foolish fresh friendly frozen funny gentle giant glad golden good grand gray great green grumpy happy hard
healthy heavy helpful high hollow honest hot huge hungry icy idle jolly juicy kind large late lazy light
little lively lonely long loud lovely low lucky magic mighty modern moody muddy narrow nasty neat nervous
new nice noisy odd old orange pale patient plain pleasant polite poor pretty proud purple quick quiet rapid
rare raw red rich ripe rough round royal rude rusty sad safe salty scary secret serious shallow sharp shiny
short shy silent silly silver simple sleepy slim slow small smart smooth soft solid sour spicy splendid
square steep sticky stormy strange strict strong sunny super sweet swift tall tame tasty tender thick thin
thirsty tidy tiny tired tough ugly vast violet warm weak wealthy wet white whole wide wild windy wise wooden
worried yellow young zany brilliant chilly clumsy cozy crooked dizzy elegant fragile gloomy graceful hairy
humble jealous kindly mellow misty nimble plump prickly rainy rosy rowdy rugged scruffy sleek snowy sparkling
spotted striped sturdy tangled tranquil vivid wobbly
"""

ADVERBS = """
again almost always angrily bravely briefly calmly carefully certainly cheerfully clearly closely daily
easily eagerly early finally gently gladly happily honestly kindly lately loudly madly merely nearly
neatly never often openly partly politely proudly quickly quietly rarely really sadly safely seldom
sharply silently simply slowly smoothly softly sometimes soon steadily suddenly surely swiftly today
together tomorrow truly warmly weekly wildly yesterday
"""

PREPOSITIONS = """
above across after against along among around at behind below beneath beside between beyond by during
from inside into near off onto outside over past through toward under until upon with within without
"""

NAMES = """
adam alice anna arthur bella ben carlos clara daniel diana edward ella emma felix fiona frank george grace
hannah harry henry isabel jack jacob james jane john julia kate leo lily lucas lucy maria mark mary max mia
nina noah oliver olivia oscar paul peter rachel robert rose ruby sam sara simon sophie thomas tom victor
"""

NUMBERS = """
two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty hundred
"""

DETERMINERS = "the a every some this that one another each no"
PRONOUNS = "she he they we you it i"


def word_class(block: str) -> tuple[str, ...]:
    """Split a whitespace-separated block into unique words, keeping first-seen order."""
    return tuple(dict.fromkeys(block.split()))


WORD_CLASSES: dict[str, tuple[str, ...]] = {
    "noun": word_class(NOUNS),
    "verb": word_class(VERBS),
    "adj": word_class(ADJECTIVES),
    "adv": word_class(ADVERBS),
    "prep": word_class(PREPOSITIONS),
    "name": word_class(NAMES),
    "num": word_class(NUMBERS),
    "det": word_class(DETERMINERS),
    "pron": word_class(PRONOUNS),
}


def vocabulary() -> set[str]:
    """Every word a synthetic sentence can contain."""
    return {word for words in WORD_CLASSES.values() for word in words}
