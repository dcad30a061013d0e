# Lists shared by the English lexicons (see README.md).

# @self: the writer, or someone close, is the subject; the cue of "| self".
@self = i
@self = me
@self = my
@self = myself
@self = mine
@self = we
@self = us
@self = our
@self = he
@self = she
@self = his
@self = her
@self = him
@self = they
@self = their
@self = them
@self = as a/an
@self = being
@self = @kin

# @kin: people close to the writer.
@kin = wife
@kin = husband
@kin = partner
@kin = spouse
@kin = boyfriend
@kin = girlfriend
@kin = fiance/fiancee
@kin = son
@kin = daughter
@kin = kid/kids/child/children/baby
@kin = mum/mom/mother/mummy/mommy
@kin = dad/father/daddy
@kin = parents
@kin = brother/sister/sibling
@kin = grandma/grandmother/nan/nana/granny/grandad/grandpa/grandfather
@kin = aunt/uncle/cousin/nephew/niece
@kin = family

# @iam: the writer (or someone close) says what they are: "I'm", "we are",
# "my dad is", "as a".
@iam = i =m
@iam = i am
@iam = i =ve always been
@iam = i have always been
@iam = we =re
@iam = we are
@iam = as a/an
@iam = being
@iam = my/our @kin (=s/is/are/was/were)
@iam = my/our @kin =s
@iam = he =s/is
@iam = she =s/is
@iam = they =re/are
@iam = i was born
@iam = i identify as
@iam = we identify as
@iam = i consider myself

# The writer says he is a man or she is a woman.
@writer_man = as a man/guy/bloke
@writer_man = i =m/am a man/guy/bloke
@writer_man = i =m/am a man/guy/bloke too
@writer_man = yes i =m a man/guy
@writer_man = being a man
@writer_man = we =re/are two men/guys
@writer_man = both men
@writer_man = me and my husband/boyfriend are both men/guys
@writer_man = i =m/am his husband/boyfriend
@writer_woman = as a woman/girl
@writer_woman = i =m/am a woman/girl
@writer_woman = i =m/am a woman/girl too
@writer_woman = being a woman
@writer_woman = we =re/are two women/girls
@writer_woman = both women
@writer_woman = i =m/am her wife/girlfriend

# @keen: how keenly someone belongs ("a proud, paid-up member").
@keen = proud/lifelong/longtime/staunch/loyal/registered/committed/active/local/former/keen/devoted
@keen = long-time
@keen = paid-up
@keen = card-carrying
@keen = die-hard

# @person_noun: a person or people ("a Black woman", "gay men").
@person_noun = man/men/woman/women/person/people/guy/guys/girl/girls/boy/boys/lady/ladies
@person_noun = customer/customers/family/families/community/communities/couple/couples
@person_noun = mum/mom/mother/dad/father/parent/parents/kid/kids/child/children/son/daughter
@person_noun = student/students/employee/employees/shopper/shoppers/neighbour/neighbor
@person_noun = friend/friends/colleague/colleagues
